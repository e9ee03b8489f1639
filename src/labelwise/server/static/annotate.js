// The annotator's page: next task with the model's suggestion, skip, multi-step undo, progress
// and the model's age; one request per label (the answer brings the next task, its suggestion
// and the progress back). What is asked depends on the project's answer kind: one button per
// label (keys from keys.js), a number input (type the number, Enter submits), one checkbox per
// label (its key toggles it, Enter submits the set) or, for NER spans, the text to select in and
// tag (spans.js: a label's key tags the selection, the model's spans come pre-filled, Enter
// submits).
"use strict";
let labels = [];
let keys = [];
let kind = "label"; // "label", "number", "labels" or "spans"
let rules = {}; // a number project's {min, max, step}
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
      option.dataset.kind = p.answer_kind || "label"; option.dataset.rules = JSON.stringify(p.answer || {});
      lw.$("project").appendChild(option);
    }
    lw.$("signin").classList.add("hidden");
    lw.$("work").classList.remove("hidden");
    lw.say("");
    await chooseProject();
  } catch (error) { lw.setToken(null); lw.say("Sign-in failed: " + error.message); }
}

async function chooseProject() {
  const chosen = lw.$("project").selectedOptions[0];
  labels = JSON.parse(chosen.dataset.labels);
  kind = chosen.dataset.kind || "label";
  rules = JSON.parse(chosen.dataset.rules || "{}");
  keys = kind === "number" ? [] : shortcutKeys(labels);
  const box = lw.$("labels");
  box.innerHTML = "";
  box.setAttribute("aria-label", kind === "number" ? "answer" : "labels");
  if (kind === "number") numberInput(box);
  else if (kind === "labels") labelCheckboxes(box);
  else if (kind === "spans") spanLabels(box);
  else labelButtons(box);
  await refreshModel();
  await nextTask();
}

function kbd(text) { const k = document.createElement("kbd"); k.textContent = text; return k; }

// A button that answers on click and keeps the focus where it was (so Enter cannot answer twice).
function commandButton(text, key, onClick) {
  const button = document.createElement("button");
  button.textContent = text;
  if (key) button.appendChild(kbd(key));
  button.addEventListener("mousedown", (event) => event.preventDefault());
  button.addEventListener("click", onClick);
  return button;
}

// Number projects: one input (bounds and step from the project); type the number, Enter sends.
function numberInput(box) {
  const field = document.createElement("label");
  field.className = "field";
  field.textContent = "Answer ";
  const input = document.createElement("input");
  input.id = "number"; input.type = "number"; input.inputMode = "decimal"; input.autocomplete = "off";
  if (rules.min !== null && rules.min !== undefined) input.min = rules.min;
  if (rules.max !== null && rules.max !== undefined) input.max = rules.max;
  input.step = rules.step === null || rules.step === undefined ? "any" : rules.step;
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); submitNumber(); }
  });
  field.appendChild(input);
  box.appendChild(field);
  const range = [];
  if (input.min !== "") range.push("from " + input.min);
  if (input.max !== "") range.push("to " + input.max);
  if (input.step !== "any") range.push("in steps of " + input.step);
  if (range.length) {
    const hint = document.createElement("span");
    hint.className = "muted"; hint.id = "number-rules"; hint.textContent = range.join(" ");
    box.appendChild(hint);
  }
  box.appendChild(commandButton("Submit", "Enter", submitNumber));
}

function submitNumber() {
  const text = lw.$("number").value.trim();
  const value = Number(text);
  if (text === "" || !Number.isFinite(value)) { lw.say("Type a number, then press Enter.", "info"); return; }
  answer({ value });
}

// Multi-label projects: one checkbox per label, toggled by its key; Enter sends the set.
function labelCheckboxes(box) {
  labels.forEach((label, i) => {
    const item = document.createElement("label");
    item.className = "check"; item.dataset.label = label;
    const check = document.createElement("input");
    check.type = "checkbox"; check.dataset.label = label;
    item.appendChild(check);
    item.append(" " + label);
    if (keys[i]) {
      item.appendChild(kbd(keys[i]));
      check.setAttribute("aria-keyshortcuts", keys[i]);
      item.title = "Toggle " + label + " (key " + keys[i] + ")";
    }
    item.addEventListener("mousedown", (event) => event.preventDefault()); // keys keep working
    box.appendChild(item);
  });
  box.appendChild(commandButton("Submit", "Enter", submitLabels));
}

function checkboxes() { return [...lw.$("labels").querySelectorAll("input[type=checkbox]")]; }

function submitLabels() {
  answer({ labels: checkboxes().filter((c) => c.checked).map((c) => c.dataset.label) });
}

// NER spans: one button per entity label (tags the selection, as its key does), and Submit.
function spanLabels(box) {
  lwSpans.setLabels(labels);
  labels.forEach((label, i) => {
    const button = commandButton(label, keys[i], () => lwSpans.tag(i));
    button.dataset.label = label;
    button.className = "span-label span-" + (i % 6);
    button.title = "Tag the selection as " + label + (keys[i] ? " (key " + keys[i] + ")" : "");
    box.appendChild(button);
  });
  box.appendChild(commandButton("Submit", "Enter", submitSpans));
}

function submitSpans() { answer({ spans: lwSpans.answer() }); }

// Classification: one button per label, answering at once.
function labelButtons(box) {
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
    button.addEventListener("click", () => answer({ label }));
    box.appendChild(button);
  });
}

// Calls of show() overlap (a project switch while a task loads): only the latest one draws, and
// it fetches the image before clearing the old task, so the page never goes blank between tasks.
let showing = 0;
async function show(next) {
  const mine = ++showing;
  let img = null;
  if (next && next.image_url) {
    const blob = await lw.api("GET", next.image_url);
    if (mine !== showing) return;
    img = document.createElement("img");
    img.alt = "sample " + next.external_id;
    img.src = URL.createObjectURL(blob);
  }
  task = next;
  clearInterval(heartbeat);
  heartbeat = task ? setInterval(keepLease, HEARTBEAT_MS) : null;
  const sample = lw.$("sample");
  sample.innerHTML = "";
  lw.$("suggestion").classList.add("hidden");
  for (const b of lw.$("labels").children) b.classList.remove("suggested");
  for (const c of checkboxes()) c.checked = false;
  if (kind === "number") lw.$("number").value = "";
  if (!task) return;
  if (img) sample.appendChild(img);
  if (task.text) {
    const div = document.createElement("div");
    div.className = "text"; div.textContent = task.text;
    sample.appendChild(div);
    if (kind === "spans") lwSpans.show(div, task.text);
  }
  shownAt = performance.now();
  if (kind === "number") lw.$("number").focus(); // type the number, Enter sends it
  if (showSuggestion) showGuess(task.suggestion || null); // it came with the task
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

// body: {label}, {value} (a number project), {labels} (a multi-label project) or {spans}.
async function answer(body) {
  if (!task) return;
  try {
    const seconds = (performance.now() - shownAt) / 1000;
    // One request per label: the answer, the next task and the progress come back together.
    const done = await lw.api("POST", "/api/tasks/" + task.task_id + "/answer", { ...body, seconds_spent: seconds });
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

// The model's suggestion for the task in view, asked for (the g key, the button, a new model):
// the server keeps that it was shown, as it does for the suggestion that comes with a task.
async function guess() {
  if (!task) return;
  try { showGuess(await lw.api("POST", "/api/tasks/" + task.task_id + "/guess")); }
  catch (error) { lw.say(error.message); }
}

// A suggestion (null or a null label: no model yet) with its confidence; its button is marked.
function showGuess(g) {
  const box = lw.$("suggestion");
  box.classList.remove("hidden");
  if (!g || g.label === null) { box.textContent = "No model yet: no suggestion."; return; }
  if (kind === "number") { box.textContent = "Model suggests " + g.label + " (round " + g.round + ")"; return; }
  if (kind === "spans") {
    lwSpans.suggest(g.spans || []);
    box.textContent = "Model suggests " + (g.spans || []).length + " span(s), shown in the text (round " + g.round + "): click one to remove it";
    return;
  }
  const suggested = kind === "labels" ? JSON.parse(g.label) : [g.label];
  const named = suggested.length ? suggested.join(", ") : "no label";
  box.textContent = "Model suggests " + named + " (" + Math.round(100 * g.probability) + "% confident, round " + g.round + ")";
  for (const b of lw.$("labels").children) b.classList.toggle("suggested", suggested.includes(b.dataset.label));
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
  // a checkbox holds no text: the keys still toggle labels and answer while it has the focus
  const typing = lw.typing(event) && !(event.target.type === "checkbox" && !event.ctrlKey && !event.metaKey && !event.altKey);
  if (event.key === "Escape" && typing) { event.target.blur(); return; }
  if (typing || event.repeat) return;
  if (event.key === "Enter" && kind !== "label") {
    event.preventDefault();
    if (kind === "labels") submitLabels(); else if (kind === "spans") submitSpans(); else submitNumber();
    return;
  }
  if (kind === "spans" && lwSpans.key(event, keys)) return;
  if (kind === "number" && /^[0-9.,-]$/.test(event.key)) { lw.$("number").focus(); return; } // typing goes there
  const key = event.key.toLowerCase();
  const index = keys.indexOf(key);
  if (index >= 0) {
    event.preventDefault();
    if (kind === "labels") { const c = checkboxes()[index]; c.checked = !c.checked; }
    else answer({ label: labels[index] });
    return;
  }
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
