// The runs picked for comparison, kept for the tab's lifetime so picking can span several pages.

const KEY = "gemini.compareSelection";
export const MAX_COMPARE = 20;
export const MIN_COMPARE = 2;

export function selectedRuns() {
  try {
    const ids = JSON.parse(sessionStorage.getItem(KEY) || "[]");
    return Array.isArray(ids) ? ids.map(String) : [];
  } catch {
    return [];
  }
}

export function setSelectedRuns(ids) {
  sessionStorage.setItem(KEY, JSON.stringify([...new Set(ids)].slice(0, MAX_COMPARE)));
}

/** Add or remove one run; returns false when adding would pass the limit. */
export function toggleRun(id, on) {
  const ids = selectedRuns().filter((other) => other !== id);
  if (on) {
    if (ids.length >= MAX_COMPARE) return false;
    ids.push(id);
  }
  setSelectedRuns(ids);
  return true;
}
