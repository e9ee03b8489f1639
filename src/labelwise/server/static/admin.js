// The admin's page: import, settings, invitations, dashboard.
"use strict";
const base = () => "/api/admin/projects/" + encodeURIComponent(lw.$("project").value);
const NUMBERS = ["batch_size", "overlap", "gold_fraction", "gold_threshold", "retrain_every", "lookahead", "budget", "target_accuracy", "stop_kappa", "max_uncertainty"];

function table(title, rows) {
  const body = rows.map((r) => "<tr>" + r.map((c) => "<td>" + escapeHtml(c) + "</td>").join("") + "</tr>").join("");
  return "<h3>" + escapeHtml(title) + "</h3><table>" + body + "</table>";
}
function escapeHtml(value) {
  const text = value === null || value === undefined ? "-" : (typeof value === "number" ? (Number.isInteger(value) ? String(value) : value.toFixed(3)) : String(value));
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
}

async function signIn() {
  const typed = lw.$("token").value.trim();
  if (typed) lw.setToken(typed);
  try {
    const me = await lw.api("GET", "/api/me");
    if (me.role !== "admin") throw new Error("this token is not an admin's");
    lw.$("who").textContent = me.name;
    lw.$("signin").classList.add("hidden");
    lw.$("work").classList.remove("hidden");
    await loadProjects();
  } catch (error) { lw.say("Sign-in failed: " + error.message); }
}

async function loadProjects(select) {
  const projects = await lw.api("GET", "/api/projects");
  lw.$("project").innerHTML = projects.map((p) => "<option>" + escapeHtml(p.name) + "</option>").join("");
  if (select) lw.$("project").value = select;
  if (projects.length) await refresh();
}

// Only strategies a service model can run are offered; each says what it needs and which
// model "auto" trains for it.
async function listStrategies() {
  const strategies = await lw.api("GET", "/api/admin/strategies");
  lw.$("strategy").innerHTML = strategies.filter((s) => s.model !== null).map((s) =>
    "<option value=\"" + escapeHtml(s.name) + "\">" + escapeHtml(s.name) + " (" +
    escapeHtml(s.needs.join(", ") || "nothing") + "; auto: " + escapeHtml(s.model) + ")</option>"
  ).join("");
}

async function refresh() {
  const settings = await lw.api("GET", base() + "/settings");
  const form = lw.$("settings-form");
  const values = { ...settings.loop, overlap: settings.overlap, budget: settings.budget };
  if (!lw.$("strategy").options.length) await listStrategies();
  for (const input of form.querySelectorAll("input, select")) input.value = values[input.name] ?? "";
  const d = await lw.api("GET", base() + "/dashboard");
  const curve = await lw.api("GET", base() + "/learning-curve.png");
  lw.$("curve").src = URL.createObjectURL(curve);
  const balance = await lw.api("GET", base() + "/class-balance.png");
  lw.$("balance").src = URL.createObjectURL(balance);
  const gold = Object.entries(d.gold).map(([name, g]) => [name, g.answered, g.accuracy, g.flagged ? "flagged" : ""]);
  lw.$("dashboard").innerHTML =
    table("Budget", [["used", d.budget_used], ["budget", d.budget === null ? "unlimited" : d.budget], ["stopped", d.stop_reason]]) +
    table("Class balance of the labeled set", Object.entries(d.class_balance)) +
    table("Annotations and agreement per annotator", Object.entries(d.annotations_by_annotator).map(([n, c]) => [n, c, d.agreement_by_annotator[n]])) +
    table("Agreement per class", Object.entries(d.agreement_by_class)) +
    table("Gold accuracy per annotator", gold) +
    (d.retrain_error ? "<p>Last retraining error: " + escapeHtml(d.retrain_error) + "</p>" : "");
}

lw.$("settings-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = {};
  for (const input of event.target.querySelectorAll("input, select")) {
    if (input.value === "") { if (input.name === "budget") body.budget = null; continue; }
    body[input.name] = NUMBERS.includes(input.name) ? Number(input.value) : input.value;
  }
  try { await lw.api("PATCH", base() + "/settings", body); lw.say("Saved.", "ok"); await refresh(); }
  catch (error) { lw.say(error.message); }
});
lw.$("import-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData();
  data.append("file", lw.$("import-file").files[0]);
  const name = lw.$("import-name").value.trim();
  try {
    const r = await lw.api("POST", "/api/admin/projects/" + encodeURIComponent(name) + "/import", data);
    lw.say("Imported " + r.inserted + " samples.", "ok");
    await loadProjects(name);
  } catch (error) { lw.say(error.message); }
});
lw.$("invite-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const r = await lw.api("POST", base() + "/annotators", { name: lw.$("invite-name").value.trim() });
    lw.$("invited").textContent = "Token for " + r.name + " (shown once): " + r.token;
  } catch (error) { lw.say(error.message); }
});
lw.$("run-round").addEventListener("click", async () => {
  try { const r = await lw.api("POST", base() + "/rounds"); lw.say("Round " + r.number + " done.", "ok"); await refresh(); }
  catch (error) { lw.say(error.message); }
});
lw.$("signin-button").addEventListener("click", signIn);
lw.$("project").addEventListener("change", refresh);
if (lw.token()) signIn();
