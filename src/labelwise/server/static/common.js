// Shared by both pages: the token in localStorage and fetch with "Authorization: Bearer".
"use strict";
const lw = {
  token: () => localStorage.getItem("labelwise-token"),
  setToken: (t) => t ? localStorage.setItem("labelwise-token", t) : localStorage.removeItem("labelwise-token"),
  async api(method, path, body) {
    const headers = { "Authorization": "Bearer " + lw.token() };
    let payload;
    if (body instanceof FormData) { payload = body; }
    else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
    const response = await fetch(path, { method, headers, body: payload });
    if (response.status === 204) return null;
    const type = response.headers.get("content-type") || "";
    const data = type.includes("json") ? await response.json() : await response.blob();
    if (!response.ok) {
      const detail = data && data.detail ? (typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail)) : response.statusText;
      throw new Error(detail);
    }
    return data;
  },
  // kind: "error" (red, the default: most messages are a caught error), "ok" (done), "info".
  say(text, kind = "error") {
    const box = document.getElementById("message");
    box.textContent = text || "";
    box.dataset.kind = kind;
  },
  $(id) { return document.getElementById(id); },
};
