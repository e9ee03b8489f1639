// The annotator's page: next task with the model's suggestion, one button per label (keys
// from keys.js), skip, multi-step undo, progress and the model's age.
"use strict";
let labels = [];
let keys = [];
let task = null;
let shownAt = 0;
let heartbeat = null;
let showSuggestion = true;
let model = null; // {round, seconds_ago, eval_accuracy} as read, and when (performance.now())
let pointerOnPicker = false;
// While a task is open in a visible page, its lease is renewed every 30 s (leases last ~2 min).
const HEARTBEAT_MS = 30000;
const MODEL_MS = 10000;

function project() { return lw.$("project").value; }
function projectPath() { return "/api/projects/" + encodeURIComponent(project()); }

async function signIn() {
  const typed = lw.$("token").value.trim();
  if (typed) lw.setToken(typed);
  try {
    const me = await lw.api("GET", "/api/me");
    lw.$("who").textContent = me.name + " (" + me.role + ")";
    lw.$("signout").classList.remove("hidden");
    const projects = await lw.api("GET", "/api/projects");
    lw.$("token").value = "";
    if (!projects.length) { lw.say("You are not in any project yet: ask your lead to add you.", "info"); return; }
    lw.$("project").innerHTML = "";
    for (const p of projects) {
      const option = document.createElement("option");
      option.value = p.name; option.textContent = p.name; option.dataset.labels = JSON.stringify(p.labels);
      lw.$("project").appendChild(option);
    }
    lw.$("signin").classList.add("hidden");
    lw.$("work").classList.remove("hidden");
    lw.say("");
    await chooseProject();
  } catch (error) { lw.setToken(null); lw.say("Sign-in failed: " + error.message); }
}

async function chooseProject() {
  labels = JSON.parse(lw.$("project").selectedOptions[0].dataset.labels);
  keys = shortcutKeys(labels);
  const box = lw.$("labels");
  box.innerHTML = "";
  labels.forEach((label, i) => {
    const button = document.createElement("button");
    button.textContent = label;
    button.dataset.label = label;
    if (keys[i]) {
      const k = document.createElement("kbd"); k.textContent = keys[i]; button.appendChild(k);
      button.setAttribute("aria-keyshortcuts", keys[i]);
      button.title = "Answer " + label + " (key " + keys[i] + ")";
    }
    // a click keeps the focus where it was, so Enter or Space cannot answer twice
    button.addEventListener("mousedown", (event) => event.preventDefault());
    button.addEventListener("click", () => answer(label));
    box.appendChild(button);
  });
  await refreshModel();
  await nextTask();
}

async function show(next) {
  task = next;
  clearInterval(heartbeat);
  heartbeat = task ? setInterval(keepLease, HEARTBEAT_MS) : null;
  const sample = lw.$("sample");
  sample.innerHTML = "";
  lw.$("suggestion").classList.add("hidden");
  for (const b of lw.$("labels").children) b.classList.remove("suggested");
  if (!task) return;
  if (task.image_url) {
    const blob = await lw.api("GET", task.image_url);
    const img = document.createElement("img");
    img.alt = "sample " + task.external_id;
    img.src = URL.createObjectURL(blob);
    sample.appendChild(img);
  }
  if (task.text) {
    const div = document.createElement("div");
    div.className = "text"; div.textContent = task.text;
    sample.appendChild(div);
  }
  shownAt = performance.now();
  if (showSuggestion) await guess();
}

async function keepLease() {
  if (!task || document.visibilityState !== "visible") return;
  try { await lw.api("POST", "/api/tasks/" + task.task_id + "/lease"); }
  catch (error) { lw.say("This task is no longer yours (" + error.message + "): here is the next one.", "info"); await nextTask(); }
}

async function nextTask() {
  try {
    const next = await lw.api("POST", projectPath() + "/next");
    await show(next.task);
    lw.say(next.task ? "" : (next.reason || "No task right now."), "info");
    if (!next.task && !/stopped|budget/.test(next.reason || "")) setTimeout(nextTask, 2000);
  } catch (error) { lw.say(error.message); }
  await refreshProgress();
}

async function answer(label) {
  if (!task) return;
  try {
    const seconds = (performance.now() - shownAt) / 1000;
    // One request per label: the answer, the next task and the progress come back together.
    const done = await lw.api("POST", "/api/tasks/" + task.task_id + "/answer", { label, seconds_spent: seconds });
    const next = done.next;
    await show(next.task);
    lw.say(next.task ? "" : (next.reason || "No task right now."), "info");
    if (!next.task && !/stopped|budget/.test(next.reason || "")) setTimeout(nextTask, 2000);
    if (done.progress) showAnsweredProgress(done.progress); else await refreshProgress();
  } catch (error) { lw.say(error.message); }
}

// The progress that came with an answer, shown as refreshProgress shows it.
function showAnsweredProgress(p) {
  lw.$("my-labels").textContent = p.my_labels;
  lw.$("budget-left").textContent = p.budget_left === null ? "unlimited" : p.budget_left;
  lw.$("round").textContent = p.round;
  lw.$("accuracy").textContent = lw.pct(p.eval_accuracy);
  if (p.stopped) lw.say("The project stopped: " + p.stop_reason, "info");
}

async function skip() {
  if (!task) return;
  try { await lw.api("POST", "/api/tasks/" + task.task_id + "/skip"); await nextTask(); }
  catch (error) { lw.say(error.message); }
}

// Each undo takes back the latest of your answers that still stands: press u again to go
// further back; the task you were on returns to the queue.
async function undo() {
  try {
    const back = await lw.api("POST", projectPath() + "/undo");
    await show(back);
    lw.say("Took back your answer to " + back.external_id + ": answer it again (u goes further back).", "ok");
    await refreshProgress();
  } catch (error) { lw.say(error.message); }
}

// The model's suggestion for the task in view, with its confidence; its button is marked.
async function guess() {
  if (!task) return;
  const box = lw.$("suggestion");
  try {
    const g = await lw.api("GET", "/api/tasks/" + task.task_id + "/guess");
    box.classList.remove("hidden");
    if (g.label === null) { box.textContent = "No model yet: no suggestion."; return; }
    box.textContent = "Model suggests " + g.label + " (" + Math.round(100 * g.probability) + "% confident, round " + g.round + ")";
    for (const b of lw.$("labels").children) b.classList.toggle("suggested", b.dataset.label === g.label);
  } catch (error) { lw.say(error.message); }
}

async function refreshProgress() {
  try {
    const p = await lw.api("GET", projectPath() + "/progress");
    lw.$("my-labels").textContent = p.my_labels;
    lw.$("budget-left").textContent = p.budget_left === null ? "unlimited" : p.budget_left;
    lw.$("round").textContent = p.round;
    lw.$("accuracy").textContent = lw.pct(p.eval_accuracy);
    if (p.stopped) lw.say("The project stopped: " + p.stop_reason, "info");
  } catch (error) { lw.say(error.message); }
}

// "model v12, retrained 40 s ago": read every 10 s, the age counted here in between.
async function refreshModel() {
  if (lw.$("work").classList.contains("hidden") || !project()) return;
  try {
    const m = await lw.api("GET", projectPath() + "/model");
    const retrained = model !== null && model.round !== m.round;
    model = { ...m, readAt: performance.now() };
    if (m.show_suggestion !== showSuggestion) {
      showSuggestion = m.show_suggestion;
      lw.$("guess").classList.toggle("hidden", showSuggestion);
      if (!showSuggestion) lw.$("suggestion").classList.add("hidden");
    }
    tickModel();
    if (retrained) { // the new model's round and accuracy, and its suggestion for this task
      await refreshProgress();
      if (showSuggestion) await guess();
    }
  } catch (error) { model = null; }
}

function tickModel() {
  if (!model) return;
  const line = lw.$("model-line");
  if (model.round === null) { line.textContent = "No model yet: the first one trains after " + model.retrain_every + " labels."; return; }
  const age = model.seconds_ago + (performance.now() - model.readAt) / 1000;
  line.textContent = "model v" + model.round + ", retrained " + lw.ago(age) +
    (model.eval_accuracy === null ? "" : " (eval accuracy " + lw.pct(model.eval_accuracy) + ")") +
    "; it retrains every " + model.retrain_every + " labels";
}

document.addEventListener("keydown", (event) => {
  if (lw.$("work").classList.contains("hidden")) return;
  if (event.key === "Escape" && lw.typing(event)) { event.target.blur(); return; }
  if (lw.typing(event) || event.repeat) return;
  const key = event.key.toLowerCase();
  const index = keys.indexOf(key);
  if (index >= 0) { event.preventDefault(); answer(labels[index]); return; }
  if (key === "s") skip();
  else if (key === "u") undo();
  else if (key === "g") guess();
});
lw.$("signin-button").addEventListener("click", signIn);
lw.$("token").addEventListener("keydown", (e) => { if (e.key === "Enter") signIn(); });
lw.$("skip").addEventListener("click", skip);
lw.$("undo").addEventListener("click", undo);
lw.$("guess").addEventListener("click", guess);
// A project chosen with the mouse hands the keys back to the task; chosen with the keyboard
// (arrows in the picker), the focus stays in the picker until Esc or Tab.
lw.$("project").addEventListener("pointerdown", () => { pointerOnPicker = true; });
lw.$("project").addEventListener("change", async () => {
  if (pointerOnPicker) lw.$("project").blur();
  pointerOnPicker = false;
  await chooseProject();
});
document.addEventListener("visibilitychange", keepLease);
setInterval(refreshModel, MODEL_MS);
setInterval(tickModel, 1000);
lw.$("signout").addEventListener("click", lw.signOut);
if (lw.token()) signIn();
