// Metric keys as people read them: grouped by their prefix (metrics/, val/, train/, lr/, system/), the
// most telling groups first, and for each key whether a higher or a lower value is better.

/** Group order: results first, the machine's own measures last; other prefixes come between. */
const GROUP_RANK = { "metrics/": 0, "val/": 1, "train/": 2, "lr/": 3, "system/": 9 };
const OTHERS_RANK = 5;

/** A key's group: its first segment with the slash ("metrics/"), or "" for a key without one. */
export function groupOf(key) {
  const slash = key.indexOf("/");
  return slash > 0 ? key.slice(0, slash + 1) : "";
}

function groupRank(group) {
  return GROUP_RANK[group] ?? OTHERS_RANK;
}

/** Names by their characters, so that punctuation counts: mAP50(B) before mAP50-95(B). */
function byName(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Compare two groups: ranked ones in their order, other prefixes by name, keys without a prefix after them. */
export function compareGroups(a, b) {
  return groupRank(a) - groupRank(b) || (a === "") - (b === "") || byName(a, b);
}

/** Compare two keys: by group, then by name. */
export function compareKeys(a, b) {
  return compareGroups(groupOf(a), groupOf(b)) || byName(a, b);
}

/** Keys grouped and ordered: [{group, keys}], the groups in compareGroups' order, keys by name. */
export function groupKeys(keys) {
  const groups = new Map();
  for (const key of [...keys].sort(compareKeys)) {
    const group = groupOf(key);
    if (!groups.has(group)) groups.set(group, []);
    groups.get(group).push(key);
  }
  return [...groups].map(([group, members]) => ({ group, keys: members }));
}

/** A group's heading: its prefix, or "Other metrics" for keys without one. */
export function groupTitle(group) {
  return group || "Other metrics";
}

const LOWER_IS_BETTER = /loss|error|(^|[^a-z])err([^a-z]|$)|(^|[^a-z])(mae|mse|rmse|wer|cer)([^a-z]|$)|perplexity|distance/i;
const HIGHER_IS_BETTER = /map|acc|precision|recall|(^|[^a-z])f1|fitness|iou|auc|dice|score|top[-_]?[15]/i;
const NO_BEST = new Set(["lr/", "system/"]);

/**
 * Whether a key is better high ("max"), low ("min"), or has no better side (null): learning rates,
 * the machine's measures, times, and keys whose name says nothing.
 */
export function betterSide(key) {
  if (NO_BEST.has(groupOf(key))) return null;
  if (LOWER_IS_BETTER.test(key)) return "min";
  if (HIGHER_IS_BETTER.test(key)) return "max";
  return null;
}

/** A summary's best value ({value, side}), or its last when the key has no better side. */
export function bestOf(key, summary) {
  const side = betterSide(key);
  if (side && summary[side] !== null && summary[side] !== undefined) return { value: summary[side], side };
  return { value: summary.last, side: null };
}

/**
 * The keys that say how good a run is, for default columns and axes: keys with a better side, of the
 * results groups first (metrics/, then val/, then others), up to `count`; the training losses, learning
 * rates and the machine's measures only when nothing else is logged.
 */
export function mainKeys(keys, count = 3) {
  const sorted = [...keys].sort(compareKeys).filter((key) => betterSide(key));
  const results = sorted.filter((key) => !["train/", "lr/", "system/"].includes(groupOf(key)));
  return (results.length ? results : sorted).slice(0, count);
}
