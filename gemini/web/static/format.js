// Numbers and times for people: every number the page shows goes through formatNumber (significant
// digits, the full value in a tooltip), and every chart axis through the tick labels below, so a value
// reads the same in a table, a tooltip and on an axis.

import { h } from "./dom.js";

/** Significant digits shown; the tooltip has the value as the API sent it. */
const DIGITS = 4;

const NON_FINITE = { NaN: "NaN", Infinity: "∞", "-Infinity": "−∞" };

/**
 * A number as short text: 0.9516666666666667 → "0.9517", 0.00076 → "0.00076", 0.00003042275 → "3.042e-5", 12345.678 →
 * "12346"; whole numbers stay whole. The API's "NaN", "Infinity", "-Infinity" read "NaN", "∞", "−∞".
 */
export function formatNumber(value, digits = DIGITS) {
  if (typeof value === "string") return NON_FINITE[value] ?? value;
  if (typeof value !== "number") return value === null || value === undefined ? "—" : String(value);
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "∞" : "−∞";
  const abs = Math.abs(value);
  if (Number.isInteger(value) && abs < 1e15) return String(value);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e15)) return exponential(value, digits - 1);
  // Digits before the point are never cut: 12345.678 is 12346, not 12350.
  if (abs >= 10 ** (digits - 1)) return String(Math.round(value));
  return String(Number(value.toPrecision(digits)));
}

/** "3.042e-5": the mantissa's trailing zeros dropped, no "+" in the exponent. */
function exponential(value, decimals) {
  const [mantissa, exponent] = value.toExponential(decimals).split("e");
  const trimmed = mantissa.includes(".") ? mantissa.replace(/\.?0+$/, "") : mantissa;
  return `${trimmed}e${Number(exponent)}`;
}

/** The value as the API gave it, for a tooltip (null when the short text already is the whole value). */
export function fullNumber(value) {
  const text = typeof value === "number" ? String(value) : value === null || value === undefined ? "" : String(value);
  return text && text !== formatNumber(value) ? text : null;
}

/** A number as a span: the short text, the full value in its tooltip. */
export function numberText(value, attrs = {}) {
  return h("span", { ...attrs, title: attrs.title ?? fullNumber(value) }, formatNumber(value));
}

/** A table cell of a number, right-aligned, the full value in its tooltip; "—" for none. */
export function numberCell(value, attrs = {}) {
  const missing = value === null || value === undefined;
  return h(
    "td",
    { ...attrs, class: `num${attrs.class ? ` ${attrs.class}` : ""}`, title: attrs.title ?? (missing ? null : fullNumber(value)) },
    missing ? "—" : formatNumber(value),
  );
}

/**
 * Labels of evenly spaced tick values, all with the same number of decimals (0.90, 0.95, 1.00), or in
 * the same exponential form for very large or very small values.
 */
export function tickLabels(values) {
  if (values.length === 0) return [];
  const largest = Math.max(...values.map(Math.abs));
  const step = values.length > 1 ? Math.abs(values[1] - values[0]) : largest || 1;
  if (largest >= 1e6 || (largest > 0 && largest < 1e-3)) {
    for (let decimals = 0; decimals <= 6; decimals++) {
      const labels = values.map((v) => (v === 0 ? "0" : exponential(v, decimals)));
      if (new Set(labels).size === values.length) return labels;
    }
    return values.map((v) => exponential(v, 6));
  }
  let decimals = 0;
  while (decimals < 10 && values.some((v) => Math.abs(Number(v.toFixed(decimals)) - v) > step * 1e-6)) decimals += 1;
  return values.map((v) => {
    const text = v.toFixed(decimals);
    return Number(text) === 0 ? (0).toFixed(decimals) : text; // no "-0.00"
  });
}

/** Round steps of time, in seconds, for the ticks of a time axis. */
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];

/** About `count` round tick values (seconds) covering [min, max]. */
export function timeTicks(min, max, count = 5) {
  const span = Math.max(max - min, 1);
  const step = TIME_STEPS.find((s) => span / s <= count) ?? Math.ceil(span / count / 86400) * 86400;
  const values = [];
  for (let v = Math.ceil(min / step) * step; v <= max; v += step) values.push(v);
  if (values.length === 0) values.push(min);
  return { values, step };
}

const pad = (n) => String(n).padStart(2, "0");

/** A duration in seconds as the labels of a relative time axis: "45 s", "2 min 30 s", "1 h 05 min", "2 d 03 h". */
export function formatSeconds(seconds) {
  const total = Math.round(Math.abs(seconds));
  const sign = seconds < 0 && total > 0 ? "−" : "";
  const d = Math.floor(total / 86400);
  const hours = Math.floor((total % 86400) / 3600);
  const min = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (d) return `${sign}${d} d${hours ? ` ${pad(hours)} h` : ""}`;
  if (hours) return `${sign}${hours} h${min ? ` ${pad(min)} min` : ""}`;
  if (min) return `${sign}${min} min${s ? ` ${pad(s)} s` : ""}`;
  return `${sign}${s} s`;
}

/** Labels of time ticks (seconds since 1970) in the reader's time zone: 14:05, 14:05:30, or Mar 3 14:00 across days. */
export function clockLabels(values, step) {
  if (values.length === 0) return [];
  const days = new Set(values.map((v) => new Date(v * 1000).toDateString())).size > 1;
  const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  if (step < 60) options.second = "2-digit";
  if (days) Object.assign(options, { month: "short", day: "numeric" });
  const format = new Intl.DateTimeFormat(undefined, options);
  return values.map((v) => format.format(new Date(v * 1000)));
}

/** A moment (seconds since 1970) in the reader's locale, for a tooltip. */
export function formatClock(seconds) {
  return Number.isFinite(seconds) ? new Date(seconds * 1000).toLocaleString() : "";
}
