// Train/validation split that never leaks: the unit is a file (every document of a file lands on
// the same side). By file: a seeded draw per path, stable when other files come and go. By
// folder: the same draw per top-level folder, so whole packages or projects are held out. By
// recency (git): the files changed in the newest commits are held out, as a model is used on
// tomorrow's code.
import { execFileSync } from 'node:child_process';
import { OptionError } from '../engine/errors';
import { Rng } from '../engine/rng';

export type SplitMethod = 'file' | 'folder' | 'recency';
export const SPLIT_METHODS: SplitMethod[] = ['file', 'folder', 'recency'];

/** The keys (file ids) held out for validation. */
export function splitByFile(keys: string[], valFraction: number, seed: number): Set<string> {
  const split = new Rng(seed).fork('split');
  const draws = keys.map((key) => ({ key, u: split.fork(key).next() }));
  const val = new Set(draws.filter((d) => d.u < valFraction).map((d) => d.key));
  return ensureBothSides(val, draws, valFraction);
}

/**
 * Holds out whole top-level folders: `groups` maps each key to its folder (a file at the root is a
 * group of its own). The draw per folder is splitByFile's, so it is stable when others change.
 */
export function splitByFolder(groups: Map<string, string>, valFraction: number, seed: number): Set<string> {
  const held = splitByFile([...new Set(groups.values())], valFraction, seed);
  return new Set([...groups].filter(([, group]) => held.has(group)).map(([key]) => key));
}

/** With at least two files and 0 < valFraction < 1, neither side is left empty. */
function ensureBothSides(
  val: Set<string>,
  ranked: { key: string; u: number }[],
  valFraction: number,
): Set<string> {
  if (ranked.length < 2 || valFraction <= 0 || valFraction >= 1) return val;
  const byU = [...ranked].sort((a, b) => a.u - b.u);
  if (val.size === 0) val.add(byU[0].key);
  if (val.size === ranked.length) val.delete(byU[byU.length - 1].key);
  return val;
}

/**
 * Holds out the most recently changed files, whole commits at a time (newest first) up to
 * `valFraction` of the files: a commit is one change, so cutting it by file name would be arbitrary.
 * A newest commit larger than the share is held out in part. `paths` maps each key to its path
 * relative to `root`. Files git does not know yet count as the newest.
 */
export function splitByRecency(root: string, paths: Map<string, string>, valFraction: number): Set<string> {
  const order = gitRecency(root);
  const count = Math.max(1, Math.round(valFraction * paths.size));
  const ranked = [...paths.entries()]
    .map(([key, path]) => ({ key, u: order.get(path) ?? -1 }))
    .sort((a, b) => a.u - b.u || (a.key < b.key ? -1 : 1));
  const val = new Set<string>();
  for (let i = 0; valFraction > 0 && i < ranked.length;) {
    let end = i;
    while (end < ranked.length && ranked[end].u === ranked[i].u) end++;
    const commit = ranked.slice(i, end);
    if (val.size + commit.length > count) {
      if (val.size === 0) for (const r of commit.slice(0, count)) val.add(r.key);
      break;
    }
    for (const r of commit) val.add(r.key);
    i = end;
  }
  return ensureBothSides(val, ranked, valFraction);
}

/** Path (relative to root) -> rank of the newest commit that touched it (0 = HEAD). */
function gitRecency(root: string): Map<string, number> {
  let prefix: string;
  let log: string;
  try {
    prefix = git(root, ['rev-parse', '--show-prefix']).trim();
    log = git(root, ['-c', 'core.quotepath=off', 'log', '--no-renames', '--name-only', '--format=%x00']);
  } catch {
    throw new OptionError(
      ['split'],
      `${root}: split recency needs a git repository with commits; use split file or commit the workspace`,
    );
  }
  const order = new Map<string, number>();
  log
    .split('\0')
    .slice(1)
    .forEach((commit, rank) => {
      for (const line of commit.split('\n')) {
        if (!line || !line.startsWith(prefix)) continue;
        const path = line.slice(prefix.length);
        if (!order.has(path)) order.set(path, rank);
      }
    });
  return order;
}

function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}

/** The held-out set's floor: enough tokens and files to judge a run on (DEFAULT_HOLDOUT_FLOOR). */
export interface HoldOutFloor {
  /** Each key's size in tokens (estimated where not tokenized yet). */
  sizes: Map<string, number>;
  minTokens: number;
  minFiles: number;
  /** The held-out side never takes more than this share of all tokens (train keeps the rest). */
  maxShare: number;
}

/** One file of a few hundred tokens judges nothing: at least ~4k tokens over 3 files, at most 30%. */
export const DEFAULT_HOLDOUT_FLOOR = { minTokens: 4096, minFiles: 3, maxShare: 0.3 };

/**
 * Tops up a drawn held-out set to the floor, taking keys in the order of their seeded draw (the same
 * per key whatever else exists), so adding a file moves at most the file at the margin.
 */
export function withHoldOutFloor(
  val: Set<string>,
  keys: string[],
  seed: number,
  floor: HoldOutFloor,
): Set<string> {
  const size = (k: string) => floor.sizes.get(k) ?? 0;
  const total = keys.reduce((s, k) => s + size(k), 0);
  const cap = total * floor.maxShare;
  let tokens = [...val].reduce((s, k) => s + size(k), 0);
  const split = new Rng(seed).fork('split');
  const ranked = keys
    .filter((k) => !val.has(k))
    .map((key) => ({ key, u: split.fork(key).next() }))
    .sort((a, b) => a.u - b.u || (a.key < b.key ? -1 : 1));
  const out = new Set(val);
  for (const { key } of ranked) {
    if (tokens >= floor.minTokens && out.size >= floor.minFiles) break;
    if (tokens + size(key) > cap || out.size + 1 >= keys.length) break;
    out.add(key);
    tokens += size(key);
  }
  return out;
}
