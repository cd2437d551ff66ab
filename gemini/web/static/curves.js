// Metric curves read for the width they are drawn at: a line chart (charts.js) whose series come from
// the server reduced to about two points per pixel of the plot, and are read again, finer, for the range
// of steps the user zooms into (a drag across the plot, or the step fields; a double-click or "Reset
// zoom" shows every step again).

import { h, svg, errorBox } from "./dom.js";
import { lineChart, linePlotArea, plotPixels, plotPosition } from "./charts.js";

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
export function metricCurves({ id, key, title, series, width = 560, height = 300, pixels: knownPixels = 0, load, describe = () => null, onDraw = () => {} }) {
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
  const note = h("div", { class: "curves-note" });
  box.append(controls, plot, note);

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
    const drawn = series.filter((s) => whole.has(String(s.runId))).map((s) => ({ ...s, ...shown(String(s.runId)) }));
    const chartTitle = zoom ? `${currentTitle}, steps ${zoom.start} to ${zoom.end}` : currentTitle;
    const chart = lineChart({ id, key, title: chartTitle, series: drawn, width, height, range: zoom });
    plot.replaceChildren(chart);
    // The fields show the steps drawn, unless the user is typing there (a running run redraws).
    if (document.activeElement !== fromInput && document.activeElement !== toInput) {
      fromInput.value = chart.dataset.startStep ?? "";
      toInput.value = chart.dataset.endStep ?? "";
    }
    fromInput.removeAttribute("aria-invalid");
    resetButton.disabled = !zoom;
    box.dataset.state = refining ? "refining" : "drawn";
    const view = { series: drawn, zoom, maxPoints: wholePoints };
    const text = describe(view);
    note.replaceChildren(text ? h("p", { class: "hint" }, text) : "");
    onDraw(view);
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

  // Drag across the plot: a band follows the pointer and its steps become the zoom.
  let drag = null;
  plot.addEventListener("pointerdown", (event) => {
    const chart = plot.querySelector("svg");
    const at = event.button === 0 && whole && chart ? plotPosition(chart, event.clientX) : null;
    if (!at) return;
    const area = linePlotArea(width, height);
    const band = svg("rect", { class: "zoom-band", x: at.x, y: area.top, width: 0, height: area.bottom - area.top });
    chart.append(band);
    drag = { chart, band, clientX: event.clientX, from: at };
    plot.setPointerCapture(event.pointerId);
    event.preventDefault();
  });
  plot.addEventListener("pointermove", (event) => {
    if (!drag) return;
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
    if (to) zoomTo(Math.min(from.step, to.step), Math.max(from.step, to.step));
  };
  plot.addEventListener("pointerup", (event) => endDrag(event, true));
  plot.addEventListener("pointercancel", (event) => endDrag(event, false));
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
  };
}
