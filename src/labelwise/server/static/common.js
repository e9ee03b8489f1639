// Shared by every page: the page's own stored token, fetch with "Authorization: Bearer",
// messages, tables with headers, and the keyboard rules.
"use strict";
const lw = {
  // Each page keeps its own token (an admin and an annotator may share a browser).
  tokenKey: () => "labelwise-token-" + (document.body.dataset.page || "annotate"),
  token: () => localStorage.getItem(lw.tokenKey()),
  setToken: (t) => t ? localStorage.setItem(lw.tokenKey(), t) : localStorage.removeItem(lw.tokenKey()),
  signOut() { lw.setToken(null); location.reload(); },
  async api(method, path, body) {
    const headers = { "Authorization": "Bearer " + lw.token() };
    let payload;
    if (body instanceof FormData) { payload = body; }
    else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
    const response = await fetch(path, { method, headers, body: payload });
    if (response.status === 204) return null;
    const type = response.headers.get("content-type") || "";
    const data = type.startsWith("application/json") ? await response.json() : await response.blob();
    if (!response.ok) throw new Error(lw.detail(data) || response.statusText);
    return data;
  },
  // The API's error as a sentence: a string, or the list of invalid fields.
  detail(data) {
    if (!data || !data.detail) return "";
    if (typeof data.detail === "string") return data.detail;
    return data.detail.map((d) => (d.loc ? d.loc.filter((p) => p !== "body").join(".") + ": " : "") + (d.msg || JSON.stringify(d))).join("; ");
  },
  // kind: "error" (red, the default: most messages are a caught error), "ok" (done), "info".
  say(text, kind = "error") {
    const box = document.getElementById("message");
    box.textContent = text || "";
    box.dataset.kind = text ? kind : "";
  },
  $(id) { return document.getElementById(id); },
  // A number for people: integers as they are, fractions with 3 digits, nothing as a dash.
  show(value) {
    if (value === null || value === undefined || value === "") return "-";
    if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(3);
    return String(value);
  },
  pct: (value) => value === null || value === undefined ? "-" : (100 * value).toFixed(1) + "%",
  ago(seconds) {
    if (seconds < 90) return Math.round(seconds) + " s ago";
    if (seconds < 5400) return Math.round(seconds / 60) + " min ago";
    return Math.round(seconds / 3600) + " h ago";
  },
  // A table with a caption and column headers; a cell is text, or {text, title} for a hint.
  table(caption, headers, rows, empty) {
    const table = document.createElement("table");
    const cap = document.createElement("caption");
    cap.textContent = caption;
    table.appendChild(cap);
    const head = table.createTHead().insertRow();
    for (const h of headers) { const th = document.createElement("th"); th.scope = "col"; th.textContent = h; head.appendChild(th); }
    const body = table.createTBody();
    for (const row of rows) {
      const tr = body.insertRow();
      for (const cell of row) {
        const td = tr.insertCell();
        if (cell && typeof cell === "object" && !(cell instanceof Node)) {
          td.textContent = cell.text; if (cell.title) { td.title = cell.title; td.className = "explained"; }
        } else if (cell instanceof Node) td.appendChild(cell);
        else td.textContent = lw.show(cell);
      }
    }
    if (!rows.length && empty) {
      const td = body.insertRow().insertCell();
      td.colSpan = headers.length; td.className = "empty"; td.textContent = empty;
    }
    return table;
  },
  // Keys never act while the person types in a field (or holds a modifier key).
  typing(event) {
    const t = event.target;
    return event.ctrlKey || event.metaKey || event.altKey ||
      (t && (["INPUT", "SELECT", "TEXTAREA"].includes(t.tagName) || t.isContentEditable));
  },
};
