// Metric curves read for the width they are drawn at: a line chart (charts.js) whose series come from
// the server reduced to about two points per pixel of the plot, and are read again, finer, for the range
// of steps the user zooms into (a drag across the plot, or the step fields; a double-click or "Reset
// zoom" shows every step again). The pointer reads out the nearest points; the x axis (step, time, time
// since start) and the smoothing are a view of the points held, changed without a read.

import { h, svg, errorBox } from "./dom.js";
import { X_AXES, lineChart, linePlotArea, lowerBound, plotPixels, plotPosition } from "./charts.js";
import { formatClock, formatNumber, formatSeconds } from "./format.js";

/** Points asked per CSS pixel of plot: a reduced block keeps up to four (first, lowest, highest, last). */
const POINTS_PER_PIXEL = 2;
const MIN_POINTS = 100;
const MAX_POINTS = 4000;
/** A drag shorter than this (CSS pixels) is a click, not a range. */
const MIN_DRAG = 4;
/** The chart grew this much wider than the points it holds were read for: read them again. */
const REREAD_GROWTH = 1.25;

/** The max_points to ask for a plot `pixels` wide. */
export function pointsForWidth(pixels) {
  return Math.min(MAX_POINTS, Math.max(MIN_POINTS, Math.round(pixels * POINTS_PER_PIXEL)));
}

const NO_POINTS = { steps: [], values: [], timestamps: [], reduced: false };

/** The smoothing weights offered (0: off). */
const SMOOTHING = [0, 0.6, 0.8, 0.9, 0.95, 0.99];

/** The curves' view from the address: `xaxis=step|time|relative`, `smooth=<weight>`; step and off by default. */
export function curveView(params) {
  const xAxis = params.get("xaxis");
  const smoothing = Number(params.get("smooth"));
  return { xAxis: xAxis in X_AXES ? xAxis : "step", smoothing: SMOOTHING.includes(smoothing) ? smoothing : 0 };
}

/** The address parameters of a curves' view (defaults left out). */
export function curveViewParams(view) {
  return { xaxis: view.xAxis === "step" ? "" : view.xAxis, smooth: view.smoothing || "" };
}

/**
 * The x axis and smoothing selects of a page's curves; `onChange(view)` hears of a new choice. `view`
 * is changed in place, so the page's charts and its next redraws share it.
 */
export function curveViewControls(view, onChange, idPrefix = "curves") {
  const axis = h(
    "select",
    { id: `${idPrefix}-x-axis` },
    Object.entries(X_AXES).map(([value, label]) => h("option", { value, selected: value === view.xAxis }, label[0].toUpperCase() + label.slice(1))),
  );
  const smoothing = h(
    "select",
    { id: `${idPrefix}-smoothing` },
    SMOOTHING.map((weight) => h("option", { value: weight, selected: weight === view.smoothing }, weight ? String(weight) : "Off")),
  );
  const changed = () => {
    view.xAxis = axis.value;
    view.smoothing = Number(smoothing.value);
    onChange(view);
  };
  axis.addEventListener("change", changed);
  smoothing.addEventListener("change", changed);
  return h(
    "div",
    { class: "curve-view" },
    h("label", { for: axis.id }, "X axis"),
    axis,
    h("label", { for: smoothing.id, title: "An exponential moving average over each line; the line itself stays, faint, behind it" }, "Smoothing"),
    smoothing,
  );
}

/** The index in [from, to) of the point whose x is nearest `value` (xs sorted), or -1 for none. */
function nearest(xs, from, to, value) {
  if (to <= from) return -1;
  let low = from;
  let high = to;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (xs[middle] < value) low = middle + 1;
    else high = middle;
  }
  if (low >= to) return to - 1;
  if (low > from && value - xs[low - 1] < xs[low] - value) return low - 1;
  return low;
}

/** The steps of the points drawn between two x values of a chart (its steps themselves on a step axis). */
function stepsBetween(chart, a, b) {
  if (chart.dataset.xAxis === "step") return [a, b];
  let start = Infinity;
  let end = -Infinity;
  for (const { series, from, to, xs } of chart.drawn?.series ?? []) {
    for (let i = lowerBound(xs.slice(from, to), a) + from; i < to && xs[i] <= b; i++) {
      start = Math.min(start, series.steps[i]);
      end = Math.max(end, series.steps[i]);
    }
  }
  return start <= end ? [start, end] : null;
}

/**
 * The plot width (CSS pixels) of a chart `width` x `height` alone in a figure.chart-box of a page laid
 * out in `place`: measured on a hidden copy, added and removed at once, so that a page can read its
 * points before its own elements are laid out.
 */
export function plotPixelsInFigure(place, width, height) {
  const probe = h(
    "div",
    { class: "page", style: "visibility: hidden", "aria-hidden": "true" },
    h("figure", { class: "chart-box" }, h("div", { class: "curves-plot" }, lineChart({ id: "plot-probe", key: "", title: "", series: [], width, height }))),
  );
  place.append(probe);
  const pixels = plotPixels(probe.querySelector("svg"));
  probe.remove();
  return pixels;
}

/**
 * A zoomable line chart of one key for one or more runs. series: [{label, color, dashed, runId}] in the
 * order drawn; `load({runIds, maxPoints, startStep, endStep})` resolves to the API's series
 * ([{run_id, steps, values, timestamps, reduced}], runs without points left out). `describe(view)` gives
 * the hint under the chart and `onDraw(view)` hears of every draw with points; a view is {series, zoom,
 * maxPoints}. The points are first read once the chart is laid out, since their number depends on its
 * width, or at once for `pixels`, the plot's width measured beforehand (plotPixelsInFigure). Returns
 * {element, reload({title})}: reload reads the points again (a running run's new ones).
 */
export function metricCurves({ id, key, title, series, width = 560, height = 300, pixels: knownPixels = 0, view = { xAxis: "step", smoothing: 0 }, load, describe = () => null, onDraw = () => {} }) {
  const box = h("div", { class: "curves", id: `${id}-box`, dataset: { state: "loading" } });
  const fromInput = h("input", { type: "number", id: `${id}-from`, min: 0, step: 1, class: "step-input" });
  const toInput = h("input", { type: "number", id: `${id}-to`, min: 0, step: 1, class: "step-input" });
  const resetButton = h("button", { type: "button", disabled: true, onclick: () => resetZoom() }, "Reset zoom");
  const controls = h(
    "form",
    {
      class: "zoom-controls",
      onsubmit: (event) => {
        event.preventDefault();
        zoomFromFields();
      },
    },
    h("label", { for: fromInput.id }, "From step"),
    fromInput,
    h("label", { for: toInput.id }, "to step"),
    toInput,
    h("button", { type: "submit" }, "Zoom"),
    resetButton,
  );
  const plot = h("div", { class: "curves-plot", title: "Drag across the plot to zoom into those steps; double-click to see every step." });
  const readout = h("div", { class: "readout", id: `${id}-readout`, "aria-hidden": "true", hidden: true });
  const note = h("div", { class: "curves-note" });
  box.append(controls, h("div", { class: "curves-frame" }, plot, readout), note);

  let currentTitle = title;
  let pixels = knownPixels;
  /** runId → the series of every step, as last read (null until the first answer). */
  let whole = null;
  let wholePoints = 0;
  let askedPoints = 0;
  /** runId → the last zoom's series, with the range ({start, end}) and the max_points it was read for. */
  const finer = new Map();
  let zoom = null;
  let refining = false;
  // Sequence numbers of the latest reads: an answer to an older one arrives too late to be drawn.
  let wholeRead = 0;
  let zoomRead = 0;

  const byRun = (answer) => new Map(answer.map((s) => [String(s.run_id), s]));
  const covers = (part, range) => part && part.start <= range.start && range.end <= part.end;

  /** Whether the points held for a run are every point of the range: then a read would bring nothing. */
  function exact(runId, range) {
    const all = whole.get(runId);
    if (!all || !all.reduced) return true;
    const part = finer.get(runId);
    if (!covers(part, range)) return false;
    return !part.reduced || (part.start === range.start && part.end === range.end && part.maxPoints >= pointsForWidth(pixels));
  }

  /** The finest points held for a run over the current view. */
  function shown(runId) {
    const all = whole.get(runId);
    if (!zoom || !all?.reduced) return all;
    const part = finer.get(runId);
    return covers(part, zoom) ? part : all;
  }

  function draw() {
    // A run's clock starts at its first point, also in a zoom that begins later.
    const drawn = series
      .filter((s) => whole.has(String(s.runId)))
      .map((s) => ({ ...s, ...shown(String(s.runId)), origin: whole.get(String(s.runId)).timestamps?.[0] }));
    const chartTitle = zoom ? `${currentTitle}, steps ${zoom.start} to ${zoom.end}` : currentTitle;
    const chart = lineChart({ id, key, title: chartTitle, series: drawn, width, height, range: zoom, xAxis: view.xAxis, smoothing: view.smoothing });
    plot.replaceChildren(chart);
    readout.hidden = true;
    // The fields show the steps drawn, unless the user is typing there (a running run redraws).
    if (document.activeElement !== fromInput && document.activeElement !== toInput) {
      fromInput.value = chart.dataset.startStep ?? "";
      toInput.value = chart.dataset.endStep ?? "";
    }
    fromInput.removeAttribute("aria-invalid");
    resetButton.disabled = !zoom;
    box.dataset.state = refining ? "refining" : "drawn";
    const drawnView = { series: drawn, zoom, maxPoints: wholePoints };
    const text = describe(drawnView);
    note.replaceChildren(text ? h("p", { class: "hint" }, text) : "");
    onDraw(drawnView);
  }

  function failed(error) {
    box.dataset.state = "error";
    note.replaceChildren(errorBox(`The points of ${key} could not be read: ${error.message}`));
  }

  async function readWhole() {
    const mine = ++wholeRead;
    const maxPoints = pointsForWidth(pixels);
    askedPoints = maxPoints;
    let answer;
    try {
      answer = await load({ runIds: series.map((s) => s.runId), maxPoints });
    } catch (error) {
      if (mine === wholeRead) failed(error);
      return;
    }
    if (mine !== wholeRead) return;
    whole = byRun(answer);
    wholePoints = maxPoints;
    finer.clear();
    if (zoom) refine();
    else draw();
  }

  async function refine() {
    const range = zoom;
    const mine = ++zoomRead;
    const needed = series.map((s) => String(s.runId)).filter((runId) => !exact(runId, range));
    refining = needed.length > 0;
    draw(); // at once from the points held; the finer ones follow
    if (!refining) return;
    const maxPoints = pointsForWidth(pixels);
    let answer;
    try {
      answer = await load({ runIds: needed, maxPoints, startStep: range.start, endStep: range.end });
    } catch (error) {
      if (mine === zoomRead) {
        refining = false;
        failed(error);
      }
      return;
    }
    if (mine !== zoomRead) return;
    const got = byRun(answer);
    for (const runId of needed) finer.set(runId, { ...(got.get(runId) ?? NO_POINTS), start: range.start, end: range.end, maxPoints });
    refining = false;
    draw();
  }

  function zoomTo(start, end) {
    if (!whole) return;
    const from = Math.max(0, Math.floor(start));
    zoom = { start: from, end: Math.max(from + 1, Math.ceil(end)) };
    refine();
  }

  function resetZoom() {
    if (!zoom) return;
    zoom = null;
    zoomRead += 1; // a zoom still being read is no longer wanted
    refining = false;
    draw();
  }

  function zoomFromFields() {
    const start = Number(fromInput.value);
    const end = Number(toInput.value);
    if (fromInput.value === "" || toInput.value === "" || !Number.isInteger(start) || !Number.isInteger(end) || start < 0 || start >= end) {
      fromInput.setAttribute("aria-invalid", "true");
      note.replaceChildren(errorBox("Give two whole steps, the first below the last."));
      return;
    }
    zoomTo(start, end);
  }

  /** The nearest point of each line to the pointer: marked on the chart, read out beside it. */
  function showReadout(event) {
    const chart = plot.querySelector("svg");
    const at = chart?.drawn ? plotPosition(chart, event.clientX) : null;
    chart?.querySelector("g.hover")?.remove();
    if (!at) {
      readout.hidden = true;
      return;
    }
    const { x, y, area, series: lines } = chart.drawn;
    const marks = svg("g", { class: "hover" }, svg("line", { x1: at.x, x2: at.x, y1: area.top, y2: area.bottom, class: "hover-line" }));
    const rows = [];
    for (const { series: s, from, to, xs, numbers, smoothed } of lines) {
      const i = nearest(xs, from, to, at.value);
      if (i < 0) continue;
      const shownValue = smoothed ? smoothed[i] : numbers[i];
      if (Number.isFinite(shownValue)) marks.append(svg("circle", { cx: x(xs[i]), cy: y(shownValue), r: 4, fill: s.color, stroke: "#fff", "stroke-width": 1.5 }));
      const time = s.timestamps?.[i];
      const since = Number.isFinite(time) && Number.isFinite(s.origin) ? ` (${formatSeconds(time - s.origin)} in)` : "";
      rows.push(
        h(
          "li",
          { dataset: { runId: s.runId } },
          h("span", { class: `swatch${s.dashed ? " dashed" : ""}`, style: `--swatch: ${s.color}` }),
          series.length > 1 ? h("span", { class: "readout-label" }, s.label) : null,
          h("strong", { class: "readout-value" }, formatNumber(s.values[i])),
          smoothed && Number.isFinite(smoothed[i]) ? h("span", { class: "readout-smoothed" }, ` smoothed ${formatNumber(smoothed[i])}`) : null,
          h("span", { class: "readout-where" }, `step ${s.steps[i]}${Number.isFinite(time) ? ` · ${formatClock(time)}${since}` : ""}`),
        ),
      );
    }
    if (rows.length === 0) {
      readout.hidden = true;
      return;
    }
    chart.append(marks);
    readout.replaceChildren(h("ul", {}, rows));
    readout.hidden = false;
    // Beside the pointer, on the side with more room.
    const frame = plot.getBoundingClientRect();
    const left = event.clientX - frame.left;
    readout.style.left = left < frame.width / 2 ? `${left + 14}px` : "";
    readout.style.right = left < frame.width / 2 ? "" : `${frame.width - left + 14}px`;
  }

  function hideReadout() {
    readout.hidden = true;
    plot.querySelector("svg g.hover")?.remove();
  }

  // Drag across the plot: a band follows the pointer and its steps become the zoom.
  let drag = null;
  plot.addEventListener("pointerdown", (event) => {
    const chart = plot.querySelector("svg");
    const at = event.button === 0 && whole && chart ? plotPosition(chart, event.clientX) : null;
    if (!at) return;
    hideReadout();
    const area = linePlotArea(width, height);
    const band = svg("rect", { class: "zoom-band", x: at.x, y: area.top, width: 0, height: area.bottom - area.top });
    chart.append(band);
    drag = { chart, band, clientX: event.clientX, from: at };
    plot.setPointerCapture(event.pointerId);
    event.preventDefault();
  });
  plot.addEventListener("pointermove", (event) => {
    if (!drag) {
      showReadout(event);
      return;
    }
    const at = plotPosition(drag.chart, event.clientX);
    if (!at) return;
    drag.band.setAttribute("x", Math.min(drag.from.x, at.x));
    drag.band.setAttribute("width", Math.abs(at.x - drag.from.x));
  });
  const endDrag = (event, apply) => {
    if (!drag) return;
    const { chart, band, clientX, from } = drag;
    drag = null;
    band.remove();
    if (!apply || Math.abs(event.clientX - clientX) < MIN_DRAG) return;
    const to = plotPosition(chart, event.clientX);
    const steps = to && stepsBetween(chart, Math.min(from.value, to.value), Math.max(from.value, to.value));
    if (steps) zoomTo(steps[0], steps[1]);
  };
  plot.addEventListener("pointerup", (event) => endDrag(event, true));
  plot.addEventListener("pointercancel", (event) => endDrag(event, false));
  plot.addEventListener("pointerleave", () => {
    if (!drag) hideReadout();
  });
  plot.addEventListener("dblclick", () => resetZoom());

  // Without a width given, the first read waits for the chart's own; a chart that grows much wider
  // than its points were read for is read again.
  plot.append(lineChart({ id, key, title: currentTitle, series: [], width, height }));
  if (pixels) readWhole();
  new ResizeObserver(() => {
    const measured = plotPixels(plot.querySelector("svg"));
    if (!measured) return; // not laid out (detached, hidden)
    const unread = askedPoints === 0;
    pixels = measured;
    const coarse = !whole || [...whole.values()].some((s) => s.reduced);
    if (unread || (coarse && pointsForWidth(measured) > askedPoints * REREAD_GROWTH)) readWhole();
  }).observe(plot);

  return {
    element: box,
    /** Read the points again, the zoom kept (a running run logged more). */
    reload({ title: newTitle } = {}) {
      if (newTitle) currentTitle = newTitle;
      if (pixels) readWhole();
    },
    /** Draw the points held again for a new view ({xAxis, smoothing}), without a read. */
    setView(next) {
      view = { ...next };
      if (whole) draw();
    },
  };
}
