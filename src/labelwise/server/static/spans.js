// NER span annotation on the annotator's page: the text with its spans, a selection made with
// the mouse or the keyboard (arrows move a word, shift+arrows extend), a label's key tags the
// selection, a click on a span (or Delete over it) removes it; the model's spans come pre-filled.
//
// Offsets: the page works in JavaScript string offsets (UTF-16 code units); the server counts
// Python characters (code points). An emoji is one code point but two code units, so every
// offset crosses the boundary through toCodePoints / toUtf16.
"use strict";

// Code points in text.slice(0, offset) (offset in UTF-16 units).
function toCodePoints(text, offset) {
  let points = 0;
  for (let i = 0; i < offset; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < offset) i++; // a surrogate pair: one point
    points++;
  }
  return points;
}

// The UTF-16 offset of code point number `points` of text.
function toUtf16(text, points) {
  let i = 0;
  for (let p = 0; p < points && i < text.length; p++) {
    const c = text.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < text.length ? 2 : 1;
  }
  return i;
}

const lwSpans = (() => {
  // Words as the server's regex tokenizer sees them: runs of letters, digits and _, or one
  // other non-space character (an emoji is one, surrogate pair and all: the u flag).
  const WORD = /[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu;
  let text = "";
  let words = []; // [{start, end}] in UTF-16 units
  let spans = []; // [{start, end, label, score}] in UTF-16 units, sorted, non-overlapping
  let anchor = -1; // keyboard selection: word indices (-1: none)
  let focus = -1;
  let edited = false; // the annotator changed the spans: a late suggestion leaves them alone
  let box = null; // the element showing the text
  let labels = [];

  function setLabels(names) { labels = names; }

  // Show `value` in `element` with no spans (a new task).
  function show(element, value) {
    box = element; text = value; spans = []; anchor = focus = -1; edited = false;
    words = [...text.matchAll(WORD)].map((m) => ({ start: m.index, end: m.index + m[0].length }));
    box.classList.add("span-text");
    box.addEventListener("click", onClick);
    render();
  }

  // The model's spans (code-point offsets, with scores), unless the annotator edited already.
  function suggest(found) {
    if (edited || !box) return;
    spans = found.map((s) => ({
      start: toUtf16(text, s.start), end: toUtf16(text, s.end), label: s.label, score: s.score,
    }));
    render();
  }

  function selection() {
    const chosen = window.getSelection();
    if (chosen && !chosen.isCollapsed && chosen.rangeCount && box.contains(chosen.anchorNode)) {
      const range = chosen.getRangeAt(0);
      let start = offsetOf(range.startContainer, range.startOffset);
      let end = offsetOf(range.endContainer, range.endOffset);
      while (start < end && /\s/.test(text[start])) start++; // no white space at the ends
      while (end > start && /\s/.test(text[end - 1])) end--;
      if (end > start) return { start, end };
    }
    if (anchor < 0) return null;
    const a = Math.min(anchor, focus), b = Math.max(anchor, focus);
    return { start: words[a].start, end: words[b].end };
  }

  // The text offset of a DOM position inside the box (label badges are CSS, not text).
  function offsetOf(node, offset) {
    const range = document.createRange();
    range.selectNodeContents(box);
    range.setEnd(node, offset);
    return range.toString().length;
  }

  // Tag the selection with label number `index`; spans it overlaps are replaced.
  function tag(index) {
    const chosen = selection();
    if (!chosen) { lw.say("Select some text first (mouse, or shift+arrows), then press a label's key.", "info"); return; }
    const label = labels[index];
    spans = spans.filter((s) => s.end <= chosen.start || s.start >= chosen.end);
    spans.push({ start: chosen.start, end: chosen.end, label, score: null });
    spans.sort((x, y) => x.start - y.start);
    edited = true;
    window.getSelection().removeAllRanges();
    render();
  }

  function removeAt(start, end) {
    const before = spans.length;
    spans = spans.filter((s) => s.end <= start || s.start >= end);
    if (spans.length !== before) { edited = true; render(); }
  }

  function onClick(event) {
    const mark = event.target.closest("mark.span");
    if (!mark || !window.getSelection().isCollapsed) return;
    removeAt(Number(mark.dataset.start), Number(mark.dataset.end));
  }

  // Arrows move the keyboard selection a word; with shift they extend it. True when handled.
  function move(event) {
    if (!words.length) return false;
    const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
    if (!step) return false;
    window.getSelection().removeAllRanges();
    if (focus < 0) { anchor = focus = step > 0 ? 0 : words.length - 1; }
    else {
      focus = Math.max(0, Math.min(words.length - 1, focus + step));
      if (!event.shiftKey) anchor = focus;
    }
    render();
    return true;
  }

  // Keys of a spans project: arrows, Delete/Backspace (the spans under the selection), a
  // label's key (`keys`, as keys.js gives them). True when the key was handled.
  function key(event, keys) {
    if (!box) return false;
    if (move(event)) { event.preventDefault(); return true; }
    if (event.key === "Delete" || event.key === "Backspace") {
      const chosen = selection();
      if (chosen) { event.preventDefault(); removeAt(chosen.start, chosen.end); }
      return Boolean(chosen);
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return false;
    const index = keys.indexOf(event.key.toLowerCase());
    if (index < 0) return false;
    event.preventDefault();
    tag(index);
    return true;
  }

  // The answer: [[start, end, label]] in code points, as the server takes it.
  function answer() {
    return spans.map((s) => [toCodePoints(text, s.start), toCodePoints(text, s.end), s.label]);
  }

  function render() {
    if (!box) return;
    box.innerHTML = "";
    const chosen = anchor < 0 ? null : {
      start: words[Math.min(anchor, focus)].start, end: words[Math.max(anchor, focus)].end,
    };
    let at = 0;
    const plain = (from, to) => {
      if (to <= from) return;
      if (!chosen || chosen.end <= from || chosen.start >= to) {
        box.append(text.slice(from, to)); return;
      }
      const a = Math.max(from, chosen.start), b = Math.min(to, chosen.end);
      box.append(text.slice(from, a));
      const sel = document.createElement("span");
      sel.className = "span-selection"; sel.textContent = text.slice(a, b);
      box.appendChild(sel);
      box.append(text.slice(b, to));
    };
    for (const s of spans) {
      plain(at, s.start);
      const mark = document.createElement("mark");
      mark.className = "span span-" + (labels.indexOf(s.label) % 6) + (s.score === null ? "" : " span-suggested");
      mark.dataset.start = s.start; mark.dataset.end = s.end; mark.dataset.label = s.label;
      mark.title = s.label + (s.score === null ? "" : " (model, " + Math.round(100 * s.score) + "%)") + ": click to remove";
      mark.textContent = text.slice(s.start, s.end);
      box.appendChild(mark);
      at = s.end;
    }
    plain(at, text.length);
  }

  return { setLabels, show, suggest, key, tag, answer, count: () => spans.length };
})();
