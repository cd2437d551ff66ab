// Small DOM helpers: element building, modal dialogs (confirm, token), notices and formatting.

/** Build an element: h("button", {type: "button", onclick}, "Save"). Strings become text nodes. */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      element.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      element.className = value;
    } else if (key === "dataset") {
      Object.assign(element.dataset, value);
    } else if (key in element && typeof value !== "string") {
      element[key] = value;
    } else {
      element.setAttribute(key, value === true ? "" : value);
    }
  }
  append(element, children);
  return element;
}

function append(parent, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** Build an SVG element; attributes are set as they are. */
export function svg(tag, attrs = {}, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) element.setAttribute(key, String(value));
  }
  append(element, children);
  return element;
}

/** An error box that screen readers announce. */
export function errorBox(message, ...extra) {
  return h("div", { class: "error", role: "alert" }, h("strong", {}, "Error: "), message, ...extra);
}

/** A short message at the top of the page (saved, deleted, …). */
export function notify(message, kind = "ok") {
  const area = document.getElementById("notices");
  if (!area) return;
  area.replaceChildren(h("p", { class: `notice notice-${kind}` }, message));
}

let pending = null;

/** A notice to show once the next page has been drawn (e.g. "Run deleted" after leaving the run). */
export function notifyAfterNavigation(message, kind = "ok") {
  pending = { message, kind };
}

/** Clear the notices when the page changes, showing the one left for the new page if any. */
export function clearNotice() {
  document.getElementById("notices")?.replaceChildren();
  if (pending) {
    notify(pending.message, pending.kind);
    pending = null;
  }
}

function modal(build) {
  return new Promise((resolve) => {
    const previous = document.activeElement;
    const dialog = h("dialog", { class: "modal", "aria-modal": "true" });
    const finish = (value) => {
      dialog.close();
      dialog.remove();
      if (previous && typeof previous.focus === "function" && previous.isConnected) previous.focus();
      resolve(value);
    };
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(null);
    });
    build(dialog, finish);
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** Ask for confirmation; resolves true only when the user presses the confirm button. */
export function confirmDialog({ title, message, confirmLabel = "Delete", danger = true }) {
  return modal((dialog, finish) => {
    const titleId = `dialog-title-${Math.random().toString(36).slice(2)}`;
    dialog.setAttribute("aria-labelledby", titleId);
    const cancel = h("button", { type: "button", onclick: () => finish(false) }, "Cancel");
    const confirm = h(
      "button",
      { type: "button", class: danger ? "danger" : "primary", onclick: () => finish(true) },
      confirmLabel,
    );
    dialog.append(h("h2", { id: titleId }, title), h("p", {}, message), h("div", { class: "actions" }, cancel, confirm));
    queueMicrotask(() => cancel.focus());
  }).then((value) => value === true);
}

/** Ask for the write token; resolves to the token, or "" when the user cancels. */
export function askToken(message) {
  return modal((dialog, finish) => {
    dialog.setAttribute("aria-labelledby", "token-dialog-title");
    const input = h("input", { id: "token-input", type: "password", autocomplete: "off", required: true });
    const form = h(
      "form",
      {
        onsubmit: (event) => {
          event.preventDefault();
          finish(input.value.trim());
        },
      },
      h("h2", { id: "token-dialog-title" }, "Write token"),
      h("p", {}, message),
      h("label", { for: "token-input" }, "API token"),
      input,
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", onclick: () => finish("") }, "Cancel"),
        h("button", { type: "submit", class: "primary" }, "Use token"),
      ),
    );
    dialog.append(form);
    queueMicrotask(() => input.focus());
  }).then((value) => value || "");
}

/** A timestamp from the API, shown in the reader's locale with the UTC original as a tooltip. */
export function formatTime(value) {
  if (!value) return h("span", { class: "muted" }, "—");
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return h("time", { datetime: date.toISOString(), title: date.toISOString() }, date.toLocaleString());
}

/** A value of a flattened info key, as short text for a table cell. */
export function formatValue(value) {
  if (value === undefined) return "";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/** The last 8 hex digits of an id: ids are time-ordered, so their beginnings are alike and their ends differ. */
export function shortId(id) {
  return String(id).replace(/-/g, "").slice(-8);
}

/** A run as people call it: its readable name (`run_name`), or the short id of a run without one. */
export function runLabel(run) {
  return run.run_name || shortId(run.id);
}
