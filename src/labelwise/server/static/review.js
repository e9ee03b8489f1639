// The reviewer's page: the review queue (disagreements, answers against a confident model or
// Dawid-Skene, failed gold; each with its answers and the model's guess), and the data browser
// (filter the project's samples by split, state, label, annotator, text, round and score; see
// why each was chosen; export the filtered set).
"use strict";
const PAGE = 25;
let labels = [];
let offset = 0;
const reviewBase = () => "/api/review/projects/" + encodeURIComponent(lw.$("project").value);

async function signIn() {
  const typed = lw.$("token").value.trim();
  if (typed) lw.setToken(typed);
  try {
    const me = await lw.api("GET", "/api/me");
    if (!["reviewer", "admin"].includes(me.role)) throw new Error("this token is an " + me.role + "'s: reviewing needs a reviewer's or admin's");
    lw.$("who").textContent = me.name + " (" + me.role + ")";
    lw.$("token").value = "";
    const projects = await lw.api("GET", "/api/projects");
    const picker = lw.$("project");
    picker.innerHTML = "";
    for (const p of projects) {
      const o = document.createElement("option"); o.value = o.textContent = p.name; o.dataset.labels = JSON.stringify(p.labels); picker.appendChild(o);
    }
    lw.$("signin").classList.add("hidden");
    lw.$("work").classList.remove("hidden");
    lw.$("signout").classList.remove("hidden");
    lw.say(projects.length ? "" : "You are in no project yet.", "info");
    if (projects.length) await chooseProject();
  } catch (error) { lw.setToken(null); lw.say("Sign-in failed: " + error.message); }
}

async function chooseProject() {
  labels = JSON.parse(lw.$("project").selectedOptions[0].dataset.labels);
  const select = lw.$("filter-label");
  select.length = 1;
  for (const l of labels) { const o = document.createElement("option"); o.value = o.textContent = l; select.appendChild(o); }
  offset = 0;
  await Promise.all([loadQueue(), browse()]);
}

function sampleNode(s) {
  const box = document.createElement("div");
  box.className = "sample-view";
  if (s.image_url) {
    const img = document.createElement("img"); img.alt = "sample " + s.external_id; box.appendChild(img);
    lw.api("GET", s.image_url).then((blob) => { img.src = URL.createObjectURL(blob); }).catch(() => { img.alt = "image not found"; });
  }
  if (s.text) { const t = document.createElement("div"); t.className = "text"; t.textContent = s.text; box.appendChild(t); }
  return box;
}

function answersText(s) { return s.answers.map((a) => a.annotator + ": " + a.label).join(", ") || "none"; }

const REASONS = {
  disagreement: "annotators disagree",
  confident_model: "answer against a confident model",
  dawid_skene: "answer against Dawid-Skene's label",
  gold_failed: "failed gold question",
};

function reasonRows(reasons) {
  return reasons.map((r) => [REASONS[r.kind], r.annotator ?? "-", r.answer ?? "-", r.expected ?? "-", r.confidence === null ? "-" : lw.pct(r.confidence)]);
}

function whyText(w) {
  if (!w) return "not queued by a round";
  return "round " + w.round + ", " + w.strategy + (w.score === null ? "" : ", score " + lw.show(w.score)) + (w.model_version ? ", model " + w.model_version : "");
}

async function loadQueue() {
  const params = new URLSearchParams();
  if (lw.$("show-resolved").checked) params.set("open_only", "false");
  if (lw.$("queue-kind").value) params.set("kind", lw.$("queue-kind").value);
  const items = await lw.api("GET", reviewBase() + "/queue?" + params);
  const queue = lw.$("queue");
  queue.innerHTML = "";
  lw.$("queue-count").textContent = "(" + items.length + ")";
  if (!items.length) { const p = document.createElement("p"); p.className = "empty"; p.textContent = "Nothing to review: no disagreement, no answer against a confident model or Dawid-Skene, no failed gold question."; queue.appendChild(p); }
  for (const item of items) {
    const s = item.sample;
    const gold = s.split === "gold";
    const card = document.createElement("article");
    card.className = "review-item"; card.dataset.sample = s.sample_id;
    const title = document.createElement("h3"); title.textContent = s.external_id + (gold ? " (gold question)" : ""); card.appendChild(title);
    card.appendChild(sampleNode(s));
    card.appendChild(lw.table("Why it is here", ["reason", "annotator", "answer", "expected", "confidence"], reasonRows(item.reasons)));
    const guess = s.guess ? s.guess.label + " (" + Math.round(100 * s.guess.probability) + "%, round " + s.guess.round + ")" : "no model yet";
    card.appendChild(lw.table("Answers", ["annotator", "label", "seconds"], s.answers.map((a) => [a.annotator, a.label, a.seconds_spent === null ? "-" : a.seconds_spent.toFixed(1)])));
    const facts = document.createElement("p");
    facts.textContent = "Model's guess: " + guess + ". Current label: " + (s.label ?? "none") + (s.method ? " (" + s.method + ")" : "") + ".";
    card.appendChild(facts);
    const prompt = document.createElement("p"); prompt.className = "muted"; prompt.textContent = gold ? "Right answer of this gold question:" : "Final label:";
    card.appendChild(prompt);
    const pick = document.createElement("div"); pick.className = "labels"; pick.setAttribute("role", "group"); pick.setAttribute("aria-label", "final label for " + s.external_id);
    for (const label of labels) {
      const b = document.createElement("button"); b.textContent = label; b.dataset.label = label;
      b.title = (gold ? "Make " + label + " the gold label of " : "Make " + label + " the final label of ") + s.external_id;
      if (s.method === "review" && s.label === label) b.classList.add("suggested");
      b.addEventListener("click", () => (gold ? checkGold : resolve)(s, label));
      pick.appendChild(b);
    }
    card.appendChild(pick);
    queue.appendChild(card);
  }
}

async function resolve(s, label) {
  try {
    await lw.api("POST", reviewBase() + "/samples/" + s.sample_id + "/resolution", { label });
    lw.say("Resolved " + s.external_id + " as " + label + ".", "ok");
    await Promise.all([loadQueue(), browse()]);
  } catch (error) { lw.say(error.message); }
}

async function checkGold(s, label) {
  try {
    const done = await lw.api("POST", reviewBase() + "/samples/" + s.sample_id + "/gold", { label });
    lw.say("Gold question " + s.external_id + ": " + (done.corrected ? "gold label corrected to " : "gold label confirmed as ") + label + ".", "ok");
    await loadQueue();
  } catch (error) { lw.say(error.message); }
}

function filterParams() {
  const params = new URLSearchParams();
  for (const field of lw.$("filters").querySelectorAll("input, select")) if (field.value.trim()) params.set(field.name, field.value.trim());
  return params;
}

async function browse() {
  const params = filterParams();
  params.set("limit", PAGE); params.set("offset", offset);
  const page = await lw.api("GET", reviewBase() + "/samples?" + params);
  const rows = page.samples.map((s) => [s.external_id, s.text === null ? "(image)" : s.text, s.split, s.state, s.label ?? "-", s.method ?? "-", answersText(s), whyText(s.why)]);
  const table = lw.table("Samples matching the filters", ["id", "text", "split", "state", "label", "method", "answers", "why chosen"], rows, "No sample matches these filters.");
  const box = lw.$("browser"); box.innerHTML = ""; box.appendChild(table);
  const last = Math.min(offset + PAGE, page.total);
  lw.$("page-info").textContent = page.total ? (offset + 1) + "-" + last + " of " + page.total : "0 of 0";
  lw.$("prev").disabled = offset === 0;
  lw.$("next").disabled = last >= page.total;
}

// The same filters as the view, every matching sample, saved as a file.
async function exportAs(format) {
  const params = filterParams();
  params.set("format", format);
  const blob = await lw.api("GET", reviewBase() + "/samples/export?" + params);
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = lw.$("project").value + "-samples." + format;
  document.body.appendChild(link); link.click(); link.remove();
  lw.say("Exported the filtered samples as " + format.toUpperCase() + ".", "ok");
}

async function attempt(action) { try { await action(); } catch (error) { lw.say(error.message); } }

lw.$("filters").addEventListener("submit", (event) => { event.preventDefault(); offset = 0; attempt(browse); });
lw.$("prev").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); attempt(browse); });
lw.$("next").addEventListener("click", () => { offset += PAGE; attempt(browse); });
lw.$("show-resolved").addEventListener("change", () => attempt(loadQueue));
lw.$("queue-kind").addEventListener("change", () => attempt(loadQueue));
lw.$("export-csv").addEventListener("click", () => attempt(() => exportAs("csv")));
lw.$("export-jsonl").addEventListener("click", () => attempt(() => exportAs("jsonl")));
lw.$("project").addEventListener("change", () => attempt(chooseProject));
lw.$("signin-button").addEventListener("click", signIn);
lw.$("token").addEventListener("keydown", (e) => { if (e.key === "Enter") signIn(); });
lw.$("signout").addEventListener("click", lw.signOut);
if (lw.token()) signIn();
