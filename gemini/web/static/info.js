// Working with info dicts: flattening to dotted keys, checking JSON typed by the user, comparing values.

/**
 * Flatten an info object to dotted keys: {params: {lr: 0.1}} -> Map {"params.lr" => 0.1}.
 * Objects are walked; arrays, scalars and empty objects are leaves.
 */
export function flatten(info, prefix = "", out = new Map()) {
  if (!info || typeof info !== "object" || Array.isArray(info)) return out;
  for (const [key, value] of Object.entries(info)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length > 0) {
      flatten(value, path, out);
    } else {
      out.set(path, value);
    }
  }
  return out;
}

/** Every dotted key that occurs in any of the infos, in first-seen order. */
export function unionKeys(infos) {
  const keys = new Set();
  for (const info of infos) for (const key of flatten(info).keys()) keys.add(key);
  return [...keys];
}

/** Where in `text` a JSON.parse error happened, as "line L, column C" (when the engine says). */
function errorPosition(text, error) {
  const match = /position (\d+)/.exec(error.message) || /at (\d+)/.exec(error.message);
  if (match) {
    const offset = Number(match[1]);
    const before = text.slice(0, offset).split("\n");
    return `line ${before.length}, column ${before[before.length - 1].length + 1}`;
  }
  const lineMatch = /line (\d+) column (\d+)/.exec(error.message);
  return lineMatch ? `line ${lineMatch[1]}, column ${lineMatch[2]}` : "";
}

/**
 * Parse text typed as an info object. Returns {value} or {error} with a message that says what is
 * wrong and where; `allowEmpty` turns blank text into {}.
 */
export function parseInfo(text, { allowEmpty = true, what = "Info" } = {}) {
  if (!text.trim()) return allowEmpty ? { value: {} } : { error: `${what} is empty; type a JSON object such as {"lr": 0.01}.` };
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // Chromium's message already says "line L column C"; other engines only give a position.
    const where = /line \d+/.test(error.message) ? "" : errorPosition(text, error);
    return { error: `${what} is not valid JSON${where ? ` (${where})` : ""}: ${error.message}` };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
    return { error: `${what} must be a JSON object ({ … }), not ${kind}.` };
  }
  return { value };
}

/** Equality of JSON values (key order of objects does not matter; 2 and 2.0 are the same number). */
export function sameValue(a, b) {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  return keysA.length === keysB.length && keysA.every((key) => key in b && sameValue(a[key], b[key]));
}

/** Whether the runs disagree on a key (a key missing from some runs counts as a difference). */
export function differs(values) {
  const present = values.filter((v) => v !== undefined);
  if (present.length !== values.length) return true;
  return present.some((v) => !sameValue(v, present[0]));
}

export function isNumber(value) {
  return typeof value === "number" && Number.isFinite(value);
}

/** Compare two cell values for sorting: missing last, numbers before strings, then by value. */
export function compareValues(a, b) {
  const rank = (v) => (v === undefined || v === null ? 3 : isNumber(v) ? 0 : typeof v === "string" ? 1 : 2);
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 0) return a - b;
  if (ra === 1) return a.localeCompare(b);
  if (ra === 2) return JSON.stringify(a).localeCompare(JSON.stringify(b));
  return 0;
}
