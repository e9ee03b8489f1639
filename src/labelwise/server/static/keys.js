// Shortcut keys for a label space: never two labels on one key, never a command's key.
"use strict";
const COMMAND_KEYS = ["s", "u", "g", "?"];
const KEY_ORDER = "123456789abcdefhijklmnopqrtvwxyz0".split("").filter((k) => !COMMAND_KEYS.includes(k));

// A one-character label keeps its own character as its key (digits "0".."9" on their own
// keys); every other label takes the next free key of 1-9, then the letters, in label order.
// Labels past the last free key get none (their button still works).
function shortcutKeys(labels) {
  const keys = new Array(labels.length).fill(null);
  const taken = new Set();
  labels.forEach((label, i) => {
    const own = label.length === 1 ? label.toLowerCase() : null;
    if (own && /^[0-9a-z]$/.test(own) && !COMMAND_KEYS.includes(own) && !taken.has(own)) {
      keys[i] = own; taken.add(own);
    }
  });
  const free = KEY_ORDER.filter((k) => !taken.has(k));
  labels.forEach((_, i) => { if (keys[i] === null && free.length) keys[i] = free.shift(); });
  return keys;
}
