// The reviewer's page: disagreements to resolve (each answer and the model's guess), and the
// data browser (filter the project's samples by split, state, label, annotator and text).
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

async function loadQueue() {
  const all = lw.$("show-resolved").checked;
  const items = await lw.api("GET", reviewBase() + "/disagreements" + (all ? "?open_only=false" : ""));
  const queue = lw.$("queue");
  queue.innerHTML = "";
  lw.$("queue-count").textContent = "(" + items.length + ")";
  if (!items.length) { const p = document.createElement("p"); p.className = "empty"; p.textContent = "No disagreement to review: every answered sample has one answer or agreeing answers."; queue.appendChild(p); }
  for (const s of items) {
    const card = document.createElement("article");
    card.className = "review-item"; card.dataset.sample = s.sample_id;
    const title = document.createElement("h3"); title.textContent = s.external_id; card.appendChild(title);
    card.appendChild(sampleNode(s));
    const guess = s.guess ? s.guess.label + " (" + Math.round(100 * s.guess.probability) + "%, round " + s.guess.round + ")" : "no model yet";
    card.appendChild(lw.table("Answers", ["annotator", "label", "seconds"], s.answers.map((a) => [a.annotator, a.label, a.seconds_spent === null ? "-" : a.seconds_spent.toFixed(1)])));
    const facts = document.createElement("p");
    facts.textContent = "Model's guess: " + guess + ". Current label: " + (s.label ?? "none") + (s.method ? " (" + s.method + ")" : "") + ".";
    card.appendChild(facts);
    const prompt = document.createElement("p"); prompt.className = "muted"; prompt.textContent = "Final label:";
    card.appendChild(prompt);
    const pick = document.createElement("div"); pick.className = "labels"; pick.setAttribute("role", "group"); pick.setAttribute("aria-label", "final label for " + s.external_id);
    for (const label of labels) {
      const b = document.createElement("button"); b.textContent = label; b.dataset.label = label;
      b.title = "Make " + label + " the final label of " + s.external_id;
      if (s.method === "review" && s.label === label) b.classList.add("suggested");
      b.addEventListener("click", () => resolve(s, label));
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

async function browse() {
  const params = new URLSearchParams();
  for (const field of lw.$("filters").querySelectorAll("input, select")) if (field.value.trim()) params.set(field.name, field.value.trim());
  params.set("limit", PAGE); params.set("offset", offset);
  const page = await lw.api("GET", reviewBase() + "/samples?" + params);
  const rows = page.samples.map((s) => [s.external_id, s.text === null ? "(image)" : s.text, s.split, s.state, s.label ?? "-", s.method ?? "-", answersText(s)]);
  const table = lw.table("Samples matching the filters", ["id", "text", "split", "state", "label", "method", "answers"], rows, "No sample matches these filters.");
  const box = lw.$("browser"); box.innerHTML = ""; box.appendChild(table);
  const last = Math.min(offset + PAGE, page.total);
  lw.$("page-info").textContent = page.total ? (offset + 1) + "-" + last + " of " + page.total : "0 of 0";
  lw.$("prev").disabled = offset === 0;
  lw.$("next").disabled = last >= page.total;
}

async function attempt(action) { try { await action(); } catch (error) { lw.say(error.message); } }

lw.$("filters").addEventListener("submit", (event) => { event.preventDefault(); offset = 0; attempt(browse); });
lw.$("prev").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); attempt(browse); });
lw.$("next").addEventListener("click", () => { offset += PAGE; attempt(browse); });
lw.$("show-resolved").addEventListener("change", () => attempt(loadQueue));
lw.$("project").addEventListener("change", () => attempt(chooseProject));
lw.$("signin-button").addEventListener("click", signIn);
lw.$("token").addEventListener("keydown", (e) => { if (e.key === "Enter") signIn(); });
lw.$("signout").addEventListener("click", lw.signOut);
if (lw.token()) signIn();
