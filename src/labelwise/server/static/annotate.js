// The annotator's page: next task, one button per label (keys 1-9), skip, undo, guess, progress.
"use strict";
let labels = [];
let task = null;
let shownAt = 0;
let heartbeat = null;
// While a task is open in a visible page, its lease is renewed every 30 s (leases last ~2 min).
const HEARTBEAT_MS = 30000;

function project() { return lw.$("project").value; }

async function signIn() {
  const typed = lw.$("token").value.trim();
  if (typed) lw.setToken(typed);
  try {
    const me = await lw.api("GET", "/api/me");
    lw.$("who").textContent = me.name + " (" + me.role + ")";
    const projects = await lw.api("GET", "/api/projects");
    if (!projects.length) { lw.say("You are not in any project yet.", "info"); return; }
    lw.$("project").innerHTML = "";
    for (const p of projects) {
      const option = document.createElement("option");
      option.value = p.name; option.textContent = p.name; option.dataset.labels = JSON.stringify(p.labels);
      lw.$("project").appendChild(option);
    }
    lw.$("signin").classList.add("hidden");
    lw.$("work").classList.remove("hidden");
    lw.$("signout").classList.remove("hidden");
    await chooseProject();
  } catch (error) { lw.setToken(null); lw.say("Sign-in failed: " + error.message); }
}

async function chooseProject() {
  labels = JSON.parse(lw.$("project").selectedOptions[0].dataset.labels);
  const box = lw.$("labels");
  box.innerHTML = "";
  labels.forEach((label, i) => {
    const button = document.createElement("button");
    button.textContent = label;
    button.dataset.label = label;
    const key = keyFor(label, i);
    if (key) { const k = document.createElement("kbd"); k.textContent = key; button.appendChild(k); }
    button.addEventListener("click", () => answer(label));
    box.appendChild(button);
  });
  await nextTask();
}

function keyFor(label, i) {
  if (/^[0-9]$/.test(label)) return label;
  return i < 9 ? String(i + 1) : null;
}

async function show(next) {
  task = next;
  clearInterval(heartbeat);
  heartbeat = task ? setInterval(keepLease, HEARTBEAT_MS) : null;
  lw.$("guess-text").textContent = "";
  const sample = lw.$("sample");
  sample.innerHTML = "";
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
}

async function keepLease() {
  if (!task || document.visibilityState !== "visible") return;
  try { await lw.api("POST", "/api/tasks/" + task.task_id + "/lease"); }
  catch (error) { lw.say("This task is no longer yours (" + error.message + "): here is the next one.", "info"); await nextTask(); }
}

async function nextTask() {
  try {
    const next = await lw.api("POST", "/api/projects/" + encodeURIComponent(project()) + "/next");
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
    await lw.api("POST", "/api/tasks/" + task.task_id + "/annotation", { label, seconds_spent: seconds });
    await nextTask();
  } catch (error) { lw.say(error.message); }
}

async function skip() {
  if (!task) return;
  try { await lw.api("POST", "/api/tasks/" + task.task_id + "/skip"); await nextTask(); }
  catch (error) { lw.say(error.message); }
}

async function undo() {
  try {
    const back = await lw.api("POST", "/api/projects/" + encodeURIComponent(project()) + "/undo");
    await show(back);
    lw.say("Your last answer was taken back: answer again.", "ok");
    await refreshProgress();
  } catch (error) { lw.say(error.message); }
}

async function guess() {
  if (!task) return;
  try {
    const g = await lw.api("GET", "/api/tasks/" + task.task_id + "/guess");
    lw.$("guess-text").textContent = g.label === null ? "No model yet."
      : "Model's guess: " + g.label + " (" + Math.round(100 * g.probability) + "%, round " + g.round + ")";
  } catch (error) { lw.say(error.message); }
}

async function refreshProgress() {
  try {
    const p = await lw.api("GET", "/api/projects/" + encodeURIComponent(project()) + "/progress");
    lw.$("my-labels").textContent = p.my_labels;
    lw.$("budget-left").textContent = p.budget_left === null ? "unlimited" : p.budget_left;
    lw.$("round").textContent = p.round;
    lw.$("accuracy").textContent = p.eval_accuracy === null ? "-" : (100 * p.eval_accuracy).toFixed(1) + "%";
    if (p.stopped) lw.say("The project stopped: " + p.stop_reason, "info");
  } catch (error) { lw.say(error.message); }
}

document.addEventListener("keydown", (event) => {
  if (lw.$("work").classList.contains("hidden") || event.target.tagName === "INPUT") return;
  const key = event.key;
  const index = labels.findIndex((label, i) => keyFor(label, i) === key);
  if (index >= 0) { answer(labels[index]); return; }
  if (key === "s") skip();
  else if (key === "u") undo();
  else if (key === "g") guess();
});
lw.$("signin-button").addEventListener("click", signIn);
lw.$("token").addEventListener("keydown", (e) => { if (e.key === "Enter") signIn(); });
lw.$("skip").addEventListener("click", skip);
lw.$("undo").addEventListener("click", undo);
lw.$("guess").addEventListener("click", guess);
lw.$("project").addEventListener("change", chooseProject);
document.addEventListener("visibilitychange", keepLease);
lw.$("signout").addEventListener("click", () => { lw.setToken(null); location.reload(); });
if (lw.token()) signIn();
