// A run's artifacts on its page: the images as a gallery of thumbnails that open full size, the small
// text files readable in place (a CSV as a table), and every file in a table whose names download it.
// The bytes come from the REST download route; on a private server they are fetched with the tab's token.

import { api, artifactUrl, getToken } from "./api.js";
import { h, errorBox } from "./dom.js";
import { formatNumber, fullNumber } from "./format.js";

const ARTIFACT_PAGE = 1000;
const IMAGE = /\.(png|jpe?g|gif|webp|svg)$/i;
const TEXT = /\.(ya?ml|csv|tsv|txt|json|log|md)$/i;
/** Text files up to this size are shown in the page; larger ones only download. */
const TEXT_LIMIT = 256 * 1024;
/** Rows of a CSV drawn as a table; the rest is in the download. */
const CSV_ROWS = 500;

/** "6.0 MiB" with the exact count of bytes in the tooltip. */
export function formatSize(bytes) {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const text = unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
  return h("span", { title: `${bytes.toLocaleString()} bytes` }, text);
}

/**
 * A plain link streams the download (an artifact's, a model version's: `url`) to disk, but cannot carry
 * the token a private server asks for: while the tab holds one, the bytes are fetched with it and handed
 * to the browser as a file instead.
 */
export async function downloadWithToken(event, url, name) {
  const token = getToken();
  if (!token) return;
  event.preventDefault();
  const link = event.currentTarget;
  const response = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
  if (!response.ok) {
    link.after(errorBox(`The download of ${name} failed (HTTP ${response.status}).`));
    return;
  }
  const blobUrl = URL.createObjectURL(await response.blob());
  const temporary = h("a", { href: blobUrl, download: name.split("/").pop() });
  document.body.append(temporary);
  temporary.click();
  temporary.remove();
  setTimeout(() => URL.revokeObjectURL(blobUrl), 60_000);
}

function downloadLink(runId, artifact, label = artifact.name, attrs = {}) {
  const url = artifactUrl(runId, artifact.name);
  return h("a", { ...attrs, href: url, download: artifact.name.split("/").pop(), onclick: (event) => downloadWithToken(event, url, artifact.name) }, label);
}

/** The artifact's bytes, with the tab's token when it holds one. */
async function fetchArtifact(runId, name) {
  const token = getToken();
  const response = await fetch(artifactUrl(runId, name), token ? { headers: { Authorization: `Bearer ${token}` } } : {});
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response;
}

/**
 * Where an <img> reads an image artifact from: the download route itself, unless the tab holds a token
 * (a plain src cannot carry it) or the image is SVG (the server sends SVG as a plain download, so that
 * it never runs on the registry's origin; an <img> of it runs no script, so the page hands it the bytes
 * as SVG). Resolves to a URL.
 */
async function imageSource(runId, artifact, held) {
  const url = artifactUrl(runId, artifact.name);
  const svgImage = /\.svg$/i.test(artifact.name);
  if (!getToken() && !svgImage) return url;
  const blob = await (await fetchArtifact(runId, artifact.name)).blob();
  const source = URL.createObjectURL(svgImage ? new Blob([blob], { type: "image/svg+xml" }) : blob);
  held.push(source);
  return source;
}

/** The order of the gallery: the training's summary plots first, the batch mosaics last, by name within. */
function imageRank(name) {
  const base = name.split("/").pop().toLowerCase();
  const ranks = [/^results\./, /confusion_matrix_normalized/, /confusion_matrix/, /pr_curve/, /f1_curve/, /p_curve/, /r_curve/, /^labels/, /^train_batch/, /^val_batch/];
  const index = ranks.findIndex((pattern) => pattern.test(base));
  if (index < 0) return 8; // between the plots and the mosaics
  return index < 8 ? index : index + 1;
}

function sortImages(images) {
  return [...images].sort((a, b) => imageRank(a.name) - imageRank(b.name) || a.name.localeCompare(b.name, undefined, { numeric: true }));
}

/** The full-size view of one image, with the previous and next ones a key away; Escape closes it. */
function lightbox(runId, images, sources, start) {
  let index = start;
  const image = h("img", { class: "lightbox-image", alt: "" });
  const caption = h("figcaption", { class: "mono" });
  const counter = h("span", { class: "muted small" });
  const download = h("span");
  const dialog = h("dialog", { class: "lightbox", id: "artifact-lightbox", "aria-label": "Image" });
  const close = () => dialog.close();
  const show = async (next) => {
    index = (next + images.length) % images.length;
    const artifact = images[index];
    dialog.setAttribute("aria-label", artifact.name);
    caption.textContent = artifact.name;
    counter.textContent = `${index + 1} of ${images.length}`;
    download.replaceChildren(downloadLink(runId, artifact, "Download", { class: "button" }));
    image.alt = artifact.name;
    image.dataset.name = artifact.name;
    image.src = await sources.get(artifact.name).catch(() => ""); // its thumbnail already says why
  };
  const several = images.length > 1;
  dialog.append(
    h(
      "div",
      { class: "lightbox-bar" },
      caption,
      counter,
      h(
        "div",
        { class: "lightbox-actions" },
        several ? h("button", { type: "button", onclick: () => show(index - 1), "aria-label": "Previous image" }, "‹ Previous") : null,
        several ? h("button", { type: "button", onclick: () => show(index + 1), "aria-label": "Next image" }, "Next ›") : null,
        download,
        h("button", { type: "button", class: "primary", onclick: close }, "Close"),
      ),
    ),
    h("figure", { class: "lightbox-figure" }, image),
  );
  dialog.addEventListener("keydown", (event) => {
    if (event.key === "ArrowLeft" && several) show(index - 1);
    if (event.key === "ArrowRight" && several) show(index + 1);
  });
  // A click on the backdrop (the dialog itself, outside its content) closes it too.
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) close();
  });
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  show(start);
}

function gallery(runId, images, held) {
  const ordered = sortImages(images);
  // One source per image, shared by its thumbnail and the full-size view.
  const sources = new Map(ordered.map((artifact) => [artifact.name, imageSource(runId, artifact, held)]));
  const items = ordered.map((artifact, index) => {
    const thumb = h("img", { alt: artifact.name, loading: "lazy", decoding: "async" });
    sources.get(artifact.name).then(
      (source) => (thumb.src = source),
      (error) => thumb.replaceWith(h("span", { class: "muted small" }, `could not be read (${error.message})`)),
    );
    return h(
      "li",
      { dataset: { name: artifact.name } },
      h(
        "figure",
        {},
        h("button", { type: "button", class: "thumb", "aria-label": `Open ${artifact.name} full size`, onclick: () => lightbox(runId, ordered, sources, index) }, thumb),
        h("figcaption", { class: "mono small" }, downloadLink(runId, artifact, artifact.name.split("/").pop(), { title: `Download ${artifact.name}` })),
      ),
    );
  });
  return h(
    "div",
    { class: "artifact-part" },
    h("h3", { id: "artifact-images-title" }, `Images (${images.length})`),
    h("ul", { class: "gallery", id: "artifact-gallery", "aria-labelledby": "artifact-images-title" }, items),
  );
}

/** Rows of CSV text (commas, quotes doubled inside quoted fields); a TSV splits on tabs. */
function parseCsv(text, separator = ",") {
  const rows = [];
  let row = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field.trim() === "") {
      quoted = true;
      field = "";
    } else if (c === separator) {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i += 1;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  if (field !== "" || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => r.some((cell) => cell.trim() !== ""));
}

/** A CSV as a table: its first row the header, numbers rounded as everywhere (the full value in the tooltip). */
function csvTable(name, text, separator) {
  const [header = [], ...rows] = parseCsv(text, separator);
  const numeric = (cell) => cell.trim() !== "" && Number.isFinite(Number(cell));
  const shown = rows.slice(0, CSV_ROWS);
  return [
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "data csv" },
        h("caption", { class: "visually-hidden" }, name),
        h("thead", {}, h("tr", {}, header.map((cell) => h("th", { scope: "col" }, cell.trim())))),
        h(
          "tbody",
          {},
          shown.map((row) =>
            h(
              "tr",
              {},
              row.map((cell) => {
                const value = cell.trim();
                if (!numeric(value)) return h("td", {}, value);
                const number = Number(value);
                return h("td", { class: "num", title: fullNumber(number) ?? (value !== String(number) ? value : null) }, formatNumber(number));
              }),
            ),
          ),
        ),
      ),
    ),
    rows.length > CSV_ROWS ? h("p", { class: "hint" }, `The first ${CSV_ROWS} of ${rows.length} rows; the download has them all.`) : "",
  ];
}

/** A text file, read and drawn when it is first opened. */
function textViewer(runId, artifact) {
  const body = h("div", { class: "text-body" }, h("p", { class: "muted" }, "Reading…"));
  const details = h(
    "details",
    { class: "text-artifact", dataset: { name: artifact.name } },
    h("summary", {}, h("span", { class: "mono" }, artifact.name), " ", h("span", { class: "muted small" }, formatSize(artifact.size))),
    body,
    h("p", { class: "small" }, downloadLink(runId, artifact, `Download ${artifact.name.split("/").pop()}`)),
  );
  let read = false;
  details.addEventListener("toggle", async () => {
    if (!details.open || read) return;
    read = true;
    try {
      const text = await (await fetchArtifact(runId, artifact.name)).text();
      const lower = artifact.name.toLowerCase();
      if (lower.endsWith(".csv") || lower.endsWith(".tsv")) body.replaceChildren(...csvTable(artifact.name, text, lower.endsWith(".tsv") ? "\t" : ","));
      else body.replaceChildren(h("pre", { class: "text-content", tabindex: "0" }, text));
    } catch (error) {
      read = false;
      body.replaceChildren(errorBox(`${artifact.name} could not be read: ${error.message}`));
    }
  });
  return details;
}

function texts(runId, files) {
  return h(
    "div",
    { class: "artifact-part", id: "artifact-texts" },
    h("h3", {}, `Text files (${files.length})`),
    files.map((artifact) => textViewer(runId, artifact)),
  );
}

function filesTable(runId, artifacts) {
  return h(
    "div",
    { class: "artifact-part" },
    h("h3", {}, `All files (${artifacts.length})`),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "data", id: "artifacts-table" },
        h("caption", { class: "visually-hidden" }, "The run's artifacts; each name downloads the file"),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Name"), h("th", { scope: "col", class: "num" }, "Size"), h("th", { scope: "col" }, "SHA-256"))),
        h(
          "tbody",
          {},
          artifacts.map((a) =>
            h(
              "tr",
              { dataset: { name: a.name } },
              h("td", { class: "mono" }, downloadLink(runId, a)),
              h("td", { class: "num" }, formatSize(a.size)),
              h("td", { class: "mono small", title: a.sha256 }, `${a.sha256.slice(0, 12)}…`),
            ),
          ),
        ),
      ),
    ),
  );
}

/**
 * The artifacts section of a run's page. `previous` is the section drawn before (a running run's page
 * is drawn again every few seconds): while the list is the same it is kept as it is, so images are not
 * read again and an open file or view stays open.
 */
export async function artifactsSection(run, previous = null) {
  const artifacts = await api.listArtifacts(run.id, { limit: ARTIFACT_PAGE });
  const identity = JSON.stringify(artifacts.map((a) => [a.name, a.sha256]));
  if (previous && previous.dataset.identity === identity) return previous;
  for (const source of previous?.held ?? []) URL.revokeObjectURL(source);

  const section = h("section", { "aria-labelledby": "artifacts-title", id: "run-artifacts", dataset: { identity } }, h("h2", { id: "artifacts-title" }, "Artifacts"));
  section.held = [];
  if (artifacts.length === 0) {
    section.append(h("p", { class: "muted" }, "This run has no artifacts."));
    return section;
  }
  const images = artifacts.filter((a) => IMAGE.test(a.name));
  const files = artifacts.filter((a) => TEXT.test(a.name) && a.size <= TEXT_LIMIT);
  if (images.length) section.append(gallery(run.id, images, section.held));
  if (files.length) section.append(texts(run.id, files));
  section.append(filesTable(run.id, artifacts));
  if (artifacts.length === ARTIFACT_PAGE) section.append(h("p", { class: "hint" }, `The first ${ARTIFACT_PAGE} artifacts by name are listed.`));
  return section;
}
