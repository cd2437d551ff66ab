// Pieces shared by several pages: the pager, the JSON editor with validation, the info summary.

import { h, formatValue } from "./dom.js";
import { flatten, parseInfo } from "./info.js";
import { href } from "./router.js";

/**
 * Previous/next links for server-side pages. `page` is 1-based; `count` is the list's total (its
 * X-Total-Count). `nextExtra` adds parameters to the Next link only (a cursor).
 */
export function pager({ path, params, page, size, count, shown, nextExtra = {} }) {
  const pages = Math.max(1, Math.ceil(count / size));
  const first = count === 0 ? 0 : (page - 1) * size + 1;
  const last = (page - 1) * size + shown;
  const link = (label, target, enabled, rel, extra = {}) =>
    enabled
      ? h("a", { class: "button", href: href(path, { ...params, page: target === 1 ? "" : target, ...extra }), rel }, label)
      : h("span", { class: "button disabled", "aria-disabled": "true" }, label);
  const status =
    count === 0 ? "No matches" : `${first}–${last} of ${count.toLocaleString()} (page ${page} of ${pages.toLocaleString()})`;
  return h(
    "nav",
    { class: "pager", "aria-label": "Pages" },
    link("« First", 1, page > 1),
    link("‹ Previous", page - 1, page > 1, "prev"),
    h("span", { class: "pager-status" }, status),
    link("Next ›", page + 1, page < pages, "next", nextExtra),
    link("Last »", pages, page < pages),
  );
}

/** A one-line summary of an info dict ("lr: 0.01, epochs: 30, …") with the full JSON as tooltip. */
export function infoSummary(info, max = 90) {
  const entries = [...flatten(info)].map(([key, value]) => `${key}: ${formatValue(value)}`);
  if (entries.length === 0) return h("span", { class: "muted" }, "(empty)");
  let text = entries.join(", ");
  if (text.length > max) text = `${text.slice(0, max - 1)}…`;
  return h("span", { class: "info-summary", title: JSON.stringify(info, null, 2) }, text);
}

/**
 * A labelled textarea for a JSON object, checked as the user types and before any save.
 * Returns {element, textarea, read()}; read() gives the parsed object, or null after showing why not.
 */
export function jsonEditor({ id, label, value, rows = 10, allowEmpty = true, hint }) {
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const textarea = h("textarea", {
    id,
    rows,
    spellcheck: "false",
    class: "json-input",
    "aria-describedby": hint ? `${hintId} ${errorId}` : errorId,
  });
  textarea.value = value === undefined ? "" : typeof value === "string" ? value : JSON.stringify(value, null, 2);
  const error = h("p", { id: errorId, class: "field-error", role: "alert" });
  const check = () => {
    const result = parseInfo(textarea.value, { allowEmpty, what: "The info" });
    error.textContent = result.error || "";
    textarea.setAttribute("aria-invalid", result.error ? "true" : "false");
    return result;
  };
  textarea.addEventListener("input", () => {
    if (textarea.getAttribute("aria-invalid") === "true") check();
  });
  textarea.addEventListener("blur", check);
  const format = h(
    "button",
    {
      type: "button",
      class: "small-button",
      onclick: () => {
        const result = check();
        if (!result.error) textarea.value = JSON.stringify(result.value, null, 2);
      },
    },
    "Format JSON",
  );
  const element = h(
    "div",
    { class: "field" },
    h("div", { class: "label-row" }, h("label", { for: id }, label), format),
    hint ? h("p", { id: hintId, class: "hint" }, hint) : null,
    textarea,
    error,
  );
  return {
    element,
    textarea,
    read() {
      const result = check();
      if (result.error) {
        textarea.focus();
        return null;
      }
      return result.value;
    },
    showError(message) {
      error.textContent = message;
    },
  };
}

/** A labelled single-line input. */
export function textField({ id, label, value = "", required = false, type = "text", hint, placeholder }) {
  const input = h("input", { id, type, required, placeholder, "aria-describedby": hint ? `${id}-hint` : null });
  input.value = value ?? "";
  return {
    input,
    element: h(
      "div",
      { class: "field" },
      h("label", { for: id }, label, required ? h("span", { class: "required", "aria-hidden": "true" }, " *") : null),
      hint ? h("p", { id: `${id}-hint`, class: "hint" }, hint) : null,
      input,
    ),
  };
}

/** Run `task(item)` for every item, at most `limit` at a time. */
export async function eachLimited(items, limit, task) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      try {
        await task(item);
      } catch (error) {
        console.warn(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
