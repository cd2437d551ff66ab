// Entry point: hash routing (#/models, #/models/<name>, #/models/<name>/records?…, #/runs?…, #/runs/<id>, #/compare?ids=…) and the error boundary
// that makes sure every failure ends as a readable message, never a blank page.

import { h, errorBox, clearNotice, notify } from "./dom.js";
import { getToken, forgetToken } from "./api.js";
import { renderModels } from "./pages/models.js";
import { renderRuns } from "./pages/runs.js";
import { renderRun } from "./pages/run.js";
import { renderModel } from "./pages/model.js";
import { renderRecords } from "./pages/records.js";
import { renderCompare } from "./pages/compare.js";
import { currentRoute, setRenderer } from "./router.js";

const PAGES = {
  models: { render: renderModels, title: "Models" },
  runs: { render: renderRuns, title: "Runs" },
  compare: { render: renderCompare, title: "Compare runs" },
};

let generation = 0;
let lastPage = null;
let scrollToTop = false;
let rendered = false;

async function render() {
  const main = document.getElementById("main");
  const route = currentRoute();
  const mine = ++generation;
  const context = { ...route, isCurrent: () => mine === generation };
  const pageKey = `${route.page}/${route.segments.slice(1).join("/")}`;
  const pageChanged = lastPage !== pageKey;
  lastPage = pageKey;
  if (pageChanged) clearNotice();

  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === route.page) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }

  // While the page loads, the previous one stays, marked busy (a thin bar shows at the top).
  main.setAttribute("aria-busy", "true");
  const container = h("div", { class: "page" });
  let page = PAGES[route.page];
  if (route.page === "runs" && route.segments.length > 1) page = { render: renderRun, title: "Model run" };
  if (route.page === "models" && route.segments.length > 1) page = { render: renderModel, title: "Model" };
  if (route.page === "models" && route.segments.length > 2) {
    page = route.segments.length === 3 && route.segments[2] === "records" ? { render: renderRecords, title: "Model records" } : null;
  }
  try {
    if (!page) {
      document.title = "Not found · GEMINI";
      container.append(
        h("h1", { tabindex: "-1" }, "Page not found"),
        errorBox(`There is no page "${route.segments.join("/")}".`, " ", h("a", { href: "#/models" }, "Go to the models.")),
      );
    } else {
      document.title = `${page.title} · GEMINI`;
      await page.render(container, context);
    }
  } catch (error) {
    if (!context.isCurrent()) return;
    console.error(error);
    if (!container.querySelector("h1")) container.prepend(h("h1", { tabindex: "-1" }, page ? page.title : "Error"));
    container.append(errorBox(error.message || String(error)));
  }
  if (!context.isCurrent()) return;
  main.replaceChildren(container);
  main.removeAttribute("aria-busy");
  main.dataset.rendered = window.location.hash;
  if (scrollToTop) {
    scrollToTop = false;
    window.scrollTo(0, 0);
  }
  // After a page change (not on first load) focus goes to the new heading, so keyboard and screen reader
  // users start reading the new page rather than the link they left.
  if (pageChanged && rendered) container.querySelector("h1")?.focus();
  rendered = true;
}

function showFatal(error) {
  const main = document.getElementById("main");
  if (!main) return;
  const message = error?.message || String(error);
  main.append(errorBox(`Something went wrong in the page: ${message}. Reload to try again.`));
}

window.addEventListener("error", (event) => showFatal(event.error || event.message));
window.addEventListener("unhandledrejection", (event) => showFatal(event.reason));
window.addEventListener("hashchange", () => render());
document.addEventListener("click", (event) => {
  // Going to another page of results starts at the top of the new page.
  if (event.target.closest?.(".pager a")) scrollToTop = true;
  const skip = event.target.closest?.(".skip-link");
  if (skip) {
    event.preventDefault();
    document.getElementById("main").focus();
  }
});

/** A "Forget write token" button in the footer while this tab holds a token. */
function showTokenControl() {
  const footer = document.querySelector(".site-footer");
  footer.querySelector("#forget-token")?.remove();
  if (!getToken()) return;
  footer.append(
    h(
      "button",
      {
        type: "button",
        id: "forget-token",
        class: "link",
        onclick: () => {
          forgetToken();
          showTokenControl();
          notify("The write token is forgotten; the next change will ask for it.");
        },
      },
      "Forget write token",
    ),
  );
}

window.addEventListener("gemini-token", showTokenControl);
showTokenControl();
setRenderer(render);
render();
