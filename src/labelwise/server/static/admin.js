// The lead's page: the overview first (labels, budget, accuracy and its trend, the stopping
// criteria against their thresholds, the learning curve), then the tables, settings, import
// and invitations.
"use strict";
const base = () => "/api/admin/projects/" + encodeURIComponent(lw.$("project").value);
const NUMBERS = ["review_confidence", "relabel_below", "max_annotators", "batch_size", "overlap", "gold_fraction", "gold_threshold", "retrain_every", "lookahead", "budget", "target_accuracy", "stop_kappa", "max_uncertainty"];
// Settings an empty field clears (sent as null): no budget, relabeling off, its default cap.
const CLEARABLE = ["budget", "relabel_below", "max_annotators"];
const AGREEMENT_HINT = "Undefined until two annotators have answered the same samples (set overlap to 2 or more).";

async function signIn() {
  const typed = lw.$("token").value.trim();
  if (typed) lw.setToken(typed);
  try {
    const me = await lw.api("GET", "/api/me");
    if (me.role !== "admin") throw new Error("this token is not an admin's");
    lw.$("who").textContent = me.name;
    lw.$("token").value = "";
    lw.$("signin").classList.add("hidden");
    lw.$("work").classList.remove("hidden");
    lw.$("signout").classList.remove("hidden");
    lw.say("");
    await loadProjects();
  } catch (error) { lw.setToken(null); lw.say("Sign-in failed: " + error.message); }
}

async function loadProjects(select) {
  const projects = await lw.api("GET", "/api/projects");
  const picker = lw.$("project");
  picker.innerHTML = "";
  for (const p of projects) {
    const o = document.createElement("option"); o.value = o.textContent = p.name; picker.appendChild(o);
    kinds[p.name] = p.answer_kind || "label";
  }
  if (select) picker.value = select;
  if (projects.length) await refresh();
  else lw.say("No project yet: import a file below.", "info");
}

// Only strategies a service model can run are offered; each says what it needs and which
// model "auto" trains for it.
// A regression or multi-label project is offered its task's strategies (one model each).
const kinds = {};  // project name -> answer kind
async function listStrategies(kind) {
  const strategies = await lw.api("GET", "/api/admin/strategies?answer_kind=" + encodeURIComponent(kind));
  const select = lw.$("strategy");
  select.innerHTML = "";
  select.dataset.kind = kind;
  for (const s of strategies.filter((s) => s.model !== null)) {
    const o = document.createElement("option");
    o.value = s.name;
    o.textContent = s.name + " (" + (s.needs.join(", ") || "nothing") + "; auto: " + s.model + ")";
    select.appendChild(o);
  }
}

function put(id, node) { const box = lw.$(id); box.innerHTML = ""; box.appendChild(node); }

function showOverview(o) {
  lw.$("ov-labels").textContent = o.labels;
  lw.$("ov-budget").textContent = o.budget === null ? o.budget_used + " used (no budget)" : o.budget_used + " of " + o.budget;
  lw.$("ov-accuracy").textContent = lw.pct(o.eval_accuracy);
  lw.$("ov-trend").textContent = o.accuracy_change === null ? "trend after the next round"
    : (o.accuracy_change >= 0 ? "+" : "") + (100 * o.accuracy_change).toFixed(1) + " points over " + o.trend_labels + " labels";
  lw.$("ov-rounds").textContent = o.rounds;
  lw.$("ov-relabeled").textContent = o.relabeled;
  lw.$("ov-sentence").textContent = o.sentence;
  lw.$("ov-sentence").dataset.stopped = o.stopped;
  put("ov-criteria", lw.table("Stopping criteria: current value against threshold", ["criterion", "current", "threshold", "met", "in words"],
    o.criteria.map((c) => [c.name, c.current, c.threshold === null ? "not set" : c.threshold, c.met ? "yes" : "no", c.text])));
}

function showDashboard(d) {
  const total = Object.values(d.class_balance).reduce((a, b) => a + b, 0);
  put("balance-table", lw.table("Labels given by annotators, per class (eval and imported labels not counted)", ["class", "labels", "share"],
    Object.entries(d.class_balance).map(([c, n]) => [c, n, total ? lw.pct(n / total) : "-"]), "No labels yet."));
  const agreement = (value) => value === null ? { text: "undefined", title: AGREEMENT_HINT } : value;
  const gold = Object.entries(d.gold).map(([name, g]) => [name, g.answered, g.accuracy, g.flagged ? "flagged: down-weighted" : "ok"]);
  const box = lw.$("dashboard");
  box.innerHTML = "";
  box.appendChild(lw.table("Annotators", ["annotator", "answers", "agreement with others"],
    Object.entries(d.annotations_by_annotator).map(([n, c]) => [n, c, agreement(d.agreement_by_annotator[n] ?? null)]), "No answers yet."));
  const kappa = d.fleiss_kappa === null ? " Fleiss' kappa: undefined (needs samples answered by as many annotators as the overlap, with overlap 2 or more)."
    : " Fleiss' kappa over the project: " + d.fleiss_kappa.toFixed(3) + ".";
  const note = document.createElement("p"); note.className = "muted";
  note.textContent = "Agreement per annotator: share of pairwise agreements with the others on shared samples; per class: specific agreement." + kappa;
  box.appendChild(note);
  box.appendChild(lw.table("Agreement per class", ["class", "specific agreement"],
    Object.entries(d.agreement_by_class).map(([c, a]) => [c, agreement(a)])));
  box.appendChild(lw.table("Gold questions per annotator", ["annotator", "answered", "accuracy", "standing"], gold,
    "No gold answers yet (set a gold fraction above 0 to mix gold questions in)."));
  box.appendChild(lw.table("Samples by state", ["state", "samples"], Object.entries(d.by_state)));
  if (d.retrain_error) { const p = document.createElement("p"); p.className = "error"; p.textContent = "Last retraining error: " + d.retrain_error; box.appendChild(p); }
}

// Krippendorff's alpha over the whole project, by its answer kind (interval metric for numbers,
// MASI distance for label sets), with one line saying what it means.
function showAgreement(a) {
  lw.$("ov-agreement").textContent = a.alpha === null ? "undefined" : a.alpha.toFixed(3);
  lw.$("ov-agreement-metric").textContent = a.metric;
  lw.$("ov-agreement-note").textContent = "Agreement: " + a.metric + ". " + a.explanation
    + (a.undefined_because ? " It is " + a.undefined_because + "." : "");
}

// How often answers take the model's suggestion, beside how often the model is right.
function showAcceptance(a) {
  lw.$("acceptance-note").textContent = a.explanation;
  const accuracy = "model right on eval: " + lw.pct(a.model_accuracy);
  const box = lw.$("acceptance");
  box.innerHTML = "";
  box.appendChild(lw.table("Per annotator (" + accuracy + ")", ["annotator", "answers after a suggestion", "took it", "acceptance", "standing"],
    a.annotators.map((r) => [r.key, r.n, r.accepted, lw.pct(r.rate), r.rubber_stamping ? "flagged: accepts far more often than the model is right" : "ok"]),
    "No answer followed a suggestion yet."));
  box.appendChild(lw.table("Per suggested class", ["suggested class", "answers", "took it", "acceptance"],
    a.classes.map((r) => [r.key, r.n, r.accepted, lw.pct(r.rate)]), "No answer followed a suggestion yet."));
}

async function refresh() {
  const [settings, overview, dashboard, agreement, acceptance] = await Promise.all([
    lw.api("GET", base() + "/settings"), lw.api("GET", base() + "/overview"), lw.api("GET", base() + "/dashboard"),
    lw.api("GET", base() + "/agreement"), lw.api("GET", base() + "/acceptance"),
  ]);
  const kind = kinds[lw.$("project").value] || "label";
  if (lw.$("strategy").dataset.kind !== kind) await listStrategies(kind);
  const values = { ...settings.loop, overlap: settings.overlap, budget: settings.budget, show_suggestion: String(settings.show_suggestion), review_confidence: settings.review_confidence,
    relabel_below: settings.relabel_below, max_annotators: settings.max_annotators };
  for (const input of lw.$("settings-form").querySelectorAll("input, select")) input.value = values[input.name] ?? "";
  showOverview(overview);
  showDashboard(dashboard);
  showAgreement(agreement);
  showAcceptance(acceptance);
  lw.$("curve").src = URL.createObjectURL(await lw.api("GET", base() + "/learning-curve.png"));
  lw.$("balance").src = URL.createObjectURL(await lw.api("GET", base() + "/class-balance.png"));
}

async function attempt(action) {
  try { await action(); } catch (error) { lw.say(error.message); }
}

lw.$("settings-form").addEventListener("submit", (event) => attempt(async () => {
  event.preventDefault();
  const body = {};
  for (const input of event.target.querySelectorAll("input, select")) {
    if (input.value === "") { if (CLEARABLE.includes(input.name)) body[input.name] = null; continue; }
    if (input.name === "show_suggestion") body.show_suggestion = input.value === "true";
    else body[input.name] = NUMBERS.includes(input.name) ? Number(input.value) : input.value;
  }
  await lw.api("PATCH", base() + "/settings", body);
  lw.say("Settings saved.", "ok");
  await refresh();
}));
function showCreateFields() {
  const kind = lw.$("create-kind").value;
  lw.$("create-number").classList.toggle("hidden", kind !== "number");
  lw.$("create-labels-field").classList.toggle("hidden", kind === "number");
}
lw.$("create-kind").addEventListener("change", showCreateFields);
lw.$("create-form").addEventListener("submit", (event) => attempt(async () => {
  event.preventDefault();
  const kind = lw.$("create-kind").value;
  const name = lw.$("create-name").value.trim();
  const body = { name, task_type: lw.$("create-task").value, answer_kind: kind, labels: [] };
  if (kind === "number") {
    for (const key of ["min", "max", "step"]) {
      const typed = lw.$("create-" + key).value;
      if (typed !== "") body[key] = Number(typed);
    }
    body.aggregation = lw.$("create-aggregation").value;
  } else {
    body.labels = lw.$("create-labels").value.split(",").map((x) => x.trim()).filter((x) => x);
  }
  await lw.api("POST", "/api/admin/projects", body);
  lw.say("Created " + name + ": import its samples below.", "ok");
  lw.$("import-name").value = name;
  await loadProjects(name);
}));
lw.$("import-form").addEventListener("submit", (event) => attempt(async () => {
  event.preventDefault();
  const data = new FormData();
  data.append("file", lw.$("import-file").files[0]);
  const labels = lw.$("import-labels").value.trim();
  if (labels) data.append("labels", labels);
  const name = lw.$("import-name").value.trim();
  const r = await lw.api("POST", "/api/admin/projects/" + encodeURIComponent(name) + "/import", data);
  lw.say("Imported " + r.inserted + " samples into " + name + ".", "ok");
  await loadProjects(name);
}));
lw.$("invite-form").addEventListener("submit", (event) => attempt(async () => {
  event.preventDefault();
  const r = await lw.api("POST", base() + "/annotators", { name: lw.$("invite-name").value.trim(), role: lw.$("invite-role").value });
  lw.$("invited").textContent = "Token for " + r.name + " (" + r.role + "; shown once): " + r.token;
  lw.say("Invited " + r.name + ".", "ok");
}));
lw.$("run-round").addEventListener("click", () => attempt(async () => {
  lw.say("Training...", "info");
  const r = await lw.api("POST", base() + "/rounds");
  lw.say("Round " + r.number + " done.", "ok");
  await refresh();
}));
lw.$("reload").addEventListener("click", () => attempt(refresh));
lw.$("signin-button").addEventListener("click", signIn);
lw.$("token").addEventListener("keydown", (e) => { if (e.key === "Enter") signIn(); });
lw.$("signout").addEventListener("click", lw.signOut);
lw.$("project").addEventListener("change", () => attempt(refresh));
if (lw.token()) signIn();
