/**
 * Downsampling for drawing: per pixel column keep the first, lowest, highest and last point (M4).
 * A line drawn through those covers exactly the pixels the full line would, so 100,000 points
 * draw as a few thousand with nothing lost to the eye. The full data stays in RunSeries.
 */
import { lowerBound } from './metrics';

export interface XY {
  x: number[];
  y: number[];
}

/**
 * Points of `ys` over sorted `xs` whose x lies in [xMin, xMax] (plus one neighbour on each side,
 * so a zoomed line runs to the edges), reduced to first/min/max/last per bucket of `buckets`
 * equal x-widths. Non-finite values are left out. Fewer than 4 points per bucket: returned as is.
 */
export function downsample(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  buckets: number,
  xMin = -Infinity,
  xMax = Infinity,
): XY {
  const from = Math.max(0, lowerBound(xs, xMin) - 1);
  const to = Math.min(xs.length, upperBound(xs, xMax) + 1);
  const out: XY = { x: [], y: [] };
  const push = (i: number) => {
    out.x.push(xs[i]);
    out.y.push(ys[i]);
  };
  if (to - from <= 4 * Math.max(1, buckets)) {
    for (let i = from; i < to; i++) if (Number.isFinite(ys[i])) push(i);
    return out;
  }
  const x0 = xs[from];
  const width = (xs[to - 1] - x0) / buckets || 1;
  let i = from;
  while (i < to) {
    const bucket = Math.min(buckets - 1, Math.floor((xs[i] - x0) / width));
    let first = -1;
    let last = -1;
    let lo = -1;
    let hi = -1;
    for (; i < to && Math.min(buckets - 1, Math.floor((xs[i] - x0) / width)) === bucket; i++) {
      const y = ys[i];
      if (!Number.isFinite(y)) continue;
      if (first < 0) first = lo = hi = i;
      if (y < ys[lo]) lo = i;
      if (y > ys[hi]) hi = i;
      last = i;
    }
    if (first < 0) continue;
    // in index order, each once
    const picks = [first, lo, hi, last].sort((a, b) => a - b);
    for (let k = 0; k < 4; k++) if (k === 0 || picks[k] !== picks[k - 1]) push(picks[k]);
  }
  return out;
}

/** Index of the first element of sorted `xs` that is > x. */
function upperBound(xs: ArrayLike<number>, x: number): number {
  let from = 0;
  let to = xs.length;
  while (from < to) {
    const mid = (from + to) >>> 1;
    if (xs[mid] <= x) from = mid + 1;
    else to = mid;
  }
  return from;
}
