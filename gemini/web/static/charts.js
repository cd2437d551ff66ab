// Charts drawn as inline SVG: a scatter of one numeric key against another, parallel coordinates (or
// bars, for a single key) across several runs, and line charts of metric histories by step. No chart
// library is needed.

import { h, svg } from "./dom.js";
import { clockLabels, formatNumber, formatSeconds, tickLabels, timeTicks } from "./format.js";

/** Distinguishable colours with enough contrast on white; runs past the tenth reuse them with a dashed line. */
export const PALETTE = ["#1f5fa8", "#c2410c", "#15803d", "#7e22ce", "#b91c1c", "#0f766e", "#a16207", "#be185d", "#4d7c0f", "#334155"];

export function colorOf(index) {
  return PALETTE[index % PALETTE.length];
}

/** About `count` round tick values covering [min, max]. */
export function ticks(min, max, count = 5) {
  if (min === max) {
    const pad = Math.abs(min) > 0 ? Math.abs(min) * 0.1 : 1;
    return ticks(min - pad, max + pad, count);
  }
  const span = max - min;
  const raw = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * magnitude).find((s) => span / s <= count) || 10 * magnitude;
  const start = Math.floor(min / step) * step;
  const values = [];
  for (let v = start; v <= max + step * 1e-9; v += step) values.push(Number(v.toPrecision(12)));
  if (values[values.length - 1] < max) values.push(Number((values[values.length - 1] + step).toPrecision(12)));
  return values;
}

/** Tick values with their labels, as one axis shows them. */
function labelled(values) {
  const labels = tickLabels(values);
  return values.map((value, index) => ({ value, label: labels[index] }));
}

function scale(domainMin, domainMax, rangeMin, rangeMax) {
  const span = domainMax - domainMin || 1;
  return (v) => rangeMin + ((v - domainMin) / span) * (rangeMax - rangeMin);
}

/**
 * A scatter plot. points: [{x, y, label, color, href}]; a point with an href is a link to its run.
 */
export function scatterChart({ points, xKey, yKey, id = "scatter-chart" }) {
  const width = 560;
  const height = 360;
  const margin = { top: 20, right: 24, bottom: 52, left: 72 };
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  // A little room around the points, so none sits on an axis.
  const padded = (values) => {
    const min = Math.min(...values);
    const max = Math.max(...values);
    const pad = (max - min) * 0.05;
    return ticks(min >= 0 ? Math.max(0, min - pad) : min - pad, max + pad);
  };
  const xTicks = padded(xs);
  const yTicks = padded(ys);
  const x = scale(xTicks[0], xTicks[xTicks.length - 1], margin.left, width - margin.right);
  const y = scale(yTicks[0], yTicks[yTicks.length - 1], height - margin.bottom, margin.top);
  const titleId = `${id}-title`;
  const chart = svg(
    "svg",
    { id, class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": titleId },
    svg("title", { id: titleId }, `Scatter plot of ${yKey} against ${xKey} for ${points.length} runs`),
    // grid and axes
    labelled(xTicks).map((t) =>
      svg(
        "g",
        { class: "tick" },
        svg("line", { x1: x(t.value), x2: x(t.value), y1: margin.top, y2: height - margin.bottom, class: "grid" }),
        svg("text", { x: x(t.value), y: height - margin.bottom + 18, "text-anchor": "middle" }, t.label),
      ),
    ),
    labelled(yTicks).map((t) =>
      svg(
        "g",
        { class: "tick" },
        svg("line", { x1: margin.left, x2: width - margin.right, y1: y(t.value), y2: y(t.value), class: "grid" }),
        svg("text", { x: margin.left - 8, y: y(t.value) + 4, "text-anchor": "end" }, t.label),
      ),
    ),
    svg("line", { x1: margin.left, x2: width - margin.right, y1: height - margin.bottom, y2: height - margin.bottom, class: "axis" }),
    svg("line", { x1: margin.left, x2: margin.left, y1: margin.top, y2: height - margin.bottom, class: "axis" }),
    svg("text", { x: (margin.left + width - margin.right) / 2, y: height - 10, "text-anchor": "middle", class: "axis-label" }, xKey),
    svg(
      "text",
      { x: 16, y: (margin.top + height - margin.bottom) / 2, "text-anchor": "middle", class: "axis-label", transform: `rotate(-90 16 ${(margin.top + height - margin.bottom) / 2})` },
      yKey,
    ),
    points.map((p) =>
      svg(
        p.href ? "a" : "g",
        { class: "point", href: p.href },
        svg("circle", { cx: x(p.x), cy: y(p.y), r: 6, fill: p.color, stroke: "#fff", "stroke-width": 1.5 }, svg("title", {}, `${p.label}: ${xKey} ${formatNumber(p.x)}, ${yKey} ${formatNumber(p.y)}`)),
        // Labels of points in the right half go to their left, so they stay inside the plot.
        x(p.x) > (margin.left + width - margin.right) / 2
          ? svg("text", { x: x(p.x) - 9, y: y(p.y) - 7, class: "point-label", "text-anchor": "end" }, p.label)
          : svg("text", { x: x(p.x) + 9, y: y(p.y) - 7, class: "point-label" }, p.label),
      ),
    ),
  );
  return chart;
}

/**
 * Parallel coordinates: one vertical axis per key (each scaled to its own range), one line per run.
 * runs: [{label, color, dashed, values: Map key -> number}]. With a single key, draws bars instead.
 */
export function parallelChart({ runs, keys, id = "parallel-chart" }) {
  if (keys.length === 1) return barChart({ runs, key: keys[0], id });
  const width = Math.max(560, 140 * keys.length);
  // Long names on many axes take two rows of labels, every other one higher, so that they do not overlap.
  const staggered = keys.length > 4;
  const height = staggered ? 376 : 360;
  const margin = { top: staggered ? 52 : 36, right: staggered ? 90 : 60, bottom: 28, left: staggered ? 90 : 60 };
  const axisX = scale(0, keys.length - 1, margin.left, width - margin.right);
  const axes = keys.map((key, index) => {
    const values = runs.map((r) => r.values.get(key)).filter((v) => typeof v === "number");
    const t = ticks(Math.min(...values), Math.max(...values), 4);
    return { key, x: axisX(index), ticks: t, y: scale(t[0], t[t.length - 1], height - margin.bottom, margin.top) };
  });
  const titleId = `${id}-title`;
  return svg(
    "svg",
    { id, class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": titleId },
    svg("title", { id: titleId }, `Parallel coordinates of ${keys.join(", ")} for ${runs.length} runs`),
    axes.map((axis) =>
      svg(
        "g",
        { class: "pc-axis" },
        svg("line", { x1: axis.x, x2: axis.x, y1: margin.top, y2: height - margin.bottom, class: "axis" }),
        svg("text", { x: axis.x, y: margin.top - (staggered && axes.indexOf(axis) % 2 ? 32 : 16), "text-anchor": "middle", class: "axis-label" }, axis.key),
        labelled(axis.ticks).map((t) => svg("text", { x: axis.x - 6, y: axis.y(t.value) + 4, "text-anchor": "end", class: "tick-label" }, t.label)),
      ),
    ),
    runs.map((run) => {
      // A run missing a key breaks its line there rather than inventing a value.
      const segments = [];
      let current = [];
      for (const axis of axes) {
        const v = run.values.get(axis.key);
        if (typeof v === "number") current.push(`${axis.x},${axis.y(v)}`);
        else if (current.length) {
          segments.push(current);
          current = [];
        }
      }
      if (current.length) segments.push(current);
      return svg(
        "g",
        { class: "pc-run" },
        svg("title", {}, `${run.label}: ${axes.filter((axis) => typeof run.values.get(axis.key) === "number").map((axis) => `${axis.key} ${formatNumber(run.values.get(axis.key))}`).join(", ")}`),
        segments.map((points) =>
          points.length === 1
            ? svg("circle", { cx: points[0].split(",")[0], cy: points[0].split(",")[1], r: 4, fill: run.color })
            : svg("polyline", {
                points: points.join(" "),
                fill: "none",
                stroke: run.color,
                "stroke-width": 2.5,
                "stroke-dasharray": run.dashed ? "6 4" : null,
              }),
        ),
      );
    }),
  );
}

function barChart({ runs, key, id }) {
  const shown = runs.filter((r) => typeof r.values.get(key) === "number");
  const width = 560;
  const barHeight = 24;
  const margin = { top: 30, right: 70, bottom: 10, left: 110 };
  const height = margin.top + margin.bottom + barHeight * shown.length * 1.3;
  const values = shown.map((r) => r.values.get(key));
  const t = ticks(Math.min(0, ...values), Math.max(0, ...values), 4);
  const x = scale(t[0], t[t.length - 1], margin.left, width - margin.right);
  const titleId = `${id}-title`;
  return svg(
    "svg",
    { id, class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": titleId },
    svg("title", { id: titleId }, `Bars of ${key} for ${shown.length} runs`),
    svg("text", { x: margin.left, y: 16, class: "axis-label" }, key),
    shown.map((run, index) => {
      const value = run.values.get(key);
      const top = margin.top + index * barHeight * 1.3;
      const from = x(Math.min(0, value));
      const to = x(Math.max(0, value));
      return svg(
        "g",
        { class: "bar" },
        svg("text", { x: margin.left - 8, y: top + barHeight * 0.7, "text-anchor": "end" }, run.label),
        svg("rect", { x: from, y: top, width: Math.max(1, to - from), height: barHeight, fill: run.color }),
        svg("text", { x: to + 6, y: top + barHeight * 0.7 }, formatNumber(value)),
      );
    }),
  );
}

/** A legend naming each run's colour (and line style), so colour is not the only cue. */
export function legend(runs) {
  return h(
    "ul",
    { class: "legend" },
    runs.map((run) =>
      h(
        "li",
        {},
        h("span", { class: `swatch${run.dashed ? " dashed" : ""}`, style: `--swatch: ${run.color}`, "aria-hidden": "true" }),
        run.label,
      ),
    ),
  );
}

/** A metric value from the API as a number: "NaN", "Infinity" and "-Infinity" travel as strings. */
export function metricNumber(value) {
  if (typeof value === "number") return value;
  if (value === "Infinity") return Infinity;
  if (value === "-Infinity") return -Infinity;
  return NaN;
}

const LINE_MARGIN = { top: 16, right: 20, bottom: 44, left: 72 };

/** The plot area of a line chart of this size, in the chart's own units (its viewBox). */
export function linePlotArea(width, height) {
  return { left: LINE_MARGIN.left, right: width - LINE_MARGIN.right, top: LINE_MARGIN.top, bottom: height - LINE_MARGIN.bottom };
}

/** The CSS pixels across the plot area of a drawn line chart (0 while it is not laid out). */
export function plotPixels(chart) {
  const box = chart.viewBox.baseVal;
  const rect = chart.getBoundingClientRect();
  if (!box || !box.width || !rect.width) return 0;
  // The viewBox is scaled to fit the element, keeping its proportions (preserveAspectRatio "meet").
  const scale = Math.min(rect.width / box.width, rect.height / box.height);
  const area = linePlotArea(box.width, box.height);
  return (area.right - area.left) * scale;
}

/**
 * Where a pointer at clientX falls on a drawn line chart: {x} in the chart's units and the {value} of
 * the x axis there (a step, or seconds), both held inside the plot area; null when nothing is drawn.
 */
export function plotPosition(chart, clientX) {
  const start = Number(chart.dataset.startX);
  const end = Number(chart.dataset.endX);
  const matrix = chart.getScreenCTM();
  if (!chart.dataset.startX || !matrix) return null;
  const area = linePlotArea(chart.viewBox.baseVal.width, chart.viewBox.baseVal.height);
  const x = Math.min(area.right, Math.max(area.left, new DOMPoint(clientX, 0).matrixTransform(matrix.inverse()).x));
  return { x, value: start + ((x - area.left) / (area.right - area.left)) * (end - start) };
}

/** The first index of a sorted array whose value is at least `value`. */
export function lowerBound(sorted, value) {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (sorted[middle] < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** A moment in seconds since 1970 (UTC), as the API gives it, in ISO form. */
function isoTime(seconds) {
  return Number.isFinite(seconds) ? new Date(seconds * 1000).toISOString() : "";
}

/** What a line chart's x axis can show: the step, the time of day, or the time since the run's first point. */
export const X_AXES = { step: "step", time: "time", relative: "time since start" };

/**
 * The x value of each point of a series: its step, its time (seconds since 1970), or its seconds since
 * `origin` (the series' first point in the whole run, so a zoomed part keeps the run's clock).
 */
export function xValues(s, xAxis) {
  if (xAxis === "step") return s.steps;
  const times = s.timestamps ?? [];
  if (xAxis === "time") return times;
  const origin = s.origin ?? times[0] ?? 0;
  return times.map((t) => t - origin);
}

/**
 * An exponential moving average of the finite values, debiased at the start (as TensorBoard's): the
 * first points are not pulled towards zero. `weight` 0 leaves the values as they are; a value that is
 * not finite stays where it is (a gap) and does not disturb the average.
 */
export function smoothValues(numbers, weight) {
  const out = new Float64Array(numbers.length);
  let average = 0;
  let count = 0;
  for (let i = 0; i < numbers.length; i++) {
    const v = numbers[i];
    if (!Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    average = average * weight + (1 - weight) * v;
    count += 1;
    out[i] = weight > 0 ? average / (1 - weight ** count) : v;
  }
  return out;
}

/** Tick values and labels of a line chart's x axis over [low, high]. */
function xTicks(low, high, xAxis) {
  if (xAxis === "step") {
    // Steps are whole numbers, so a short run gets one tick per step rather than fractions of one.
    const values =
      high - low < 5
        ? Array.from({ length: high - low + 1 }, (_, i) => low + i)
        : ticks(low, high, 5).filter((t) => Number.isInteger(t) && t >= low && t <= high);
    return values.map((value) => ({ value, label: String(value) }));
  }
  const { values, step } = timeTicks(low, high, 5);
  const labels = xAxis === "time" ? clockLabels(values, step) : values.map(formatSeconds);
  return values.map((value, index) => ({ value, label: labels[index] }));
}

/**
 * Line chart of metric histories. series: [{label, color, dashed, runId, steps, values, timestamps,
 * origin}], the columns of the API (values may be "NaN", "Infinity", "-Infinity"). `range` ({start,
 * end}, steps included) draws only those steps, the y axis fitted to them; without it the whole of every
 * series is drawn. `xAxis` is a key of X_AXES; `smoothing` (0 to below 1) draws an exponential moving
 * average over each line, the line itself faint behind it. A value that is not finite breaks its line
 * there and is counted in the title. Each series is a <g class="series" data-points="N"> (N: its points
 * in the range) holding one polyline per unbroken stretch; the svg carries the steps drawn as
 * data-start-step and data-end-step, the x axis as data-x-axis, data-start-x and data-end-x, and the
 * points drawn as its `drawn` property (for the pointer's readout).
 */
export function lineChart({ series, key, id, title, width = 560, height = 300, range = null, xAxis = "step", smoothing = 0 }) {
  const area = linePlotArea(width, height);
  const titleId = `${id}-title`;
  const chart = svg("svg", { id, class: "chart line-chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": titleId });
  // Each series' slice [from, to) of points inside the range, and the extremes of what is drawn.
  let first = Infinity;
  let lastStep = -Infinity;
  let low = Infinity;
  let high = -Infinity;
  let xLow = Infinity;
  let xHigh = -Infinity;
  let skipped = 0;
  const slices = series.map((s) => {
    const from = range ? lowerBound(s.steps, range.start) : 0;
    const to = range ? lowerBound(s.steps, range.end + 1) : s.steps.length;
    const numbers = new Float64Array(s.values.length);
    for (let i = 0; i < s.values.length; i++) numbers[i] = metricNumber(s.values[i]);
    const xs = xValues(s, xAxis);
    for (let i = from; i < to; i++) {
      const v = numbers[i];
      if (Number.isFinite(v)) {
        if (v < low) low = v;
        if (v > high) high = v;
      } else skipped += 1;
      if (xs[i] < xLow) xLow = xs[i];
      if (xs[i] > xHigh) xHigh = xs[i];
    }
    if (to > from) {
      first = Math.min(first, s.steps[from]);
      lastStep = Math.max(lastStep, s.steps[to - 1]);
    }
    const smoothed = smoothing > 0 ? smoothValues(numbers, smoothing) : null;
    return { s, from, to, numbers, xs, smoothed };
  });
  if (range) {
    first = range.start;
    lastStep = range.end;
  }
  chart.append(svg("title", { id: titleId }, `${title}${skipped ? ` (${skipped} value${skipped === 1 ? "" : "s"} not finite, not drawn)` : ""}`));
  if (first > lastStep) return chart;
  // On steps the x axis spans exactly the steps asked (a drag reads steps back from it); on time it
  // spans the times of the points drawn.
  if (xAxis === "step" || !(xLow <= xHigh)) {
    xLow = first;
    xHigh = lastStep;
  }
  chart.dataset.startStep = first;
  chart.dataset.endStep = lastStep;
  chart.dataset.xAxis = xAxis;
  chart.dataset.startX = xLow;
  chart.dataset.endX = xHigh;
  const yTicks = low <= high ? ticks(low, high, 5) : [0, 1];
  const x = scale(xLow, xHigh, area.left, area.right);
  const y = scale(yTicks[0], yTicks[yTicks.length - 1], area.bottom, area.top);
  const clipId = `${id}-plot`;
  chart.append(
    svg("defs", {}, svg("clipPath", { id: clipId }, svg("rect", { x: area.left, y: area.top - 2, width: area.right - area.left, height: area.bottom - area.top + 4 }))),
    ...xTicks(xLow, xHigh, xAxis).map((t) =>
      svg(
        "g",
        { class: "tick" },
        svg("line", { x1: x(t.value), x2: x(t.value), y1: area.top, y2: area.bottom, class: "grid" }),
        svg("text", { x: x(t.value), y: area.bottom + 18, "text-anchor": "middle" }, t.label),
      ),
    ),
    ...labelled(yTicks).map((t) =>
      svg(
        "g",
        { class: "tick" },
        svg("line", { x1: area.left, x2: area.right, y1: y(t.value), y2: y(t.value), class: "grid" }),
        svg("text", { x: area.left - 8, y: y(t.value) + 4, "text-anchor": "end" }, t.label),
      ),
    ),
    svg("line", { x1: area.left, x2: area.right, y1: area.bottom, y2: area.bottom, class: "axis" }),
    svg("line", { x1: area.left, x2: area.left, y1: area.top, y2: area.bottom, class: "axis" }),
    svg("text", { x: (area.left + area.right) / 2, y: height - 8, "text-anchor": "middle", class: "axis-label" }, X_AXES[xAxis]),
    svg(
      "text",
      { x: 16, y: (area.top + area.bottom) / 2, "text-anchor": "middle", class: "axis-label", transform: `rotate(-90 16 ${(area.top + area.bottom) / 2})` },
      key,
    ),
  );
  const drawn = [];
  for (const { s, from, to, numbers, xs, smoothed } of slices) {
    // One point either side of the range carries the line to the plot's edge (the clip cuts the rest).
    const drawFrom = Math.max(0, from - 1);
    const drawTo = Math.min(s.steps.length, to + 1);
    const stretchesOf = (ys) => {
      const stretches = [];
      let current = [];
      for (let i = drawFrom; i < drawTo; i++) {
        const v = ys[i];
        if (Number.isFinite(v) && Number.isFinite(xs[i])) current.push(`${x(xs[i]).toFixed(1)},${y(v).toFixed(1)}`);
        else if (current.length) {
          stretches.push(current);
          current = [];
        }
      }
      if (current.length) stretches.push(current);
      return stretches;
    };
    const lines = (ys, kind) =>
      stretchesOf(ys).map((stretch) => {
        if (stretch.length > 1) {
          return svg("polyline", {
            class: kind,
            points: stretch.join(" "),
            fill: "none",
            stroke: s.color,
            "stroke-width": 2,
            "stroke-linejoin": "round",
            "stroke-dasharray": s.dashed ? "6 4" : null,
          });
        }
        const [cx, cy] = stretch[0].split(",");
        return svg("circle", { class: kind, cx, cy, r: 3, fill: s.color });
      });
    const last = to > from ? to - 1 : -1;
    const lastText = last >= 0 ? `, last ${formatNumber(s.values[last])} at step ${s.steps[last]}${s.timestamps?.[last] !== undefined ? ` (${isoTime(s.timestamps[last])})` : ""}` : "";
    chart.append(
      svg(
        "g",
        { class: "series", "data-points": to - from, "data-run-id": s.runId, "clip-path": `url(#${clipId})` },
        svg("title", {}, `${s.label}: ${to - from} points${lastText}`),
        smoothed ? [lines(numbers, "raw"), lines(smoothed, "smoothed")] : lines(numbers, "line"),
      ),
    );
    drawn.push({ series: s, from, to, numbers, xs, smoothed });
  }
  chart.drawn = { xAxis, area, x, y, series: drawn };
  return chart;
}
