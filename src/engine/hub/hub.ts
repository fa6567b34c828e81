/**
 * Models from the Hugging Face hub, in the hub's standard cache. This is the only module that knows
 * hub URLs and cache paths. The layout is huggingface_hub's (file_download.py), so Python tools and
 * LocalTune share one cache:
 *
 *   <cache>/models--<org>--<name>/
 *     blobs/<etag>               a file's bytes, named by its ETag (sha256 for LFS files, git sha1 otherwise)
 *     blobs/<etag>.incomplete    a download in progress; the next attempt resumes it with Range
 *     snapshots/<commit>/<file>  relative symlink to ../../blobs/<etag> (a copy where symlinks fail)
 *     refs/<revision>            the commit a branch or tag pointed to when last resolved
 *     .no_exist/<commit>/<file>  an optional file the repo does not have (not asked again)
 *
 * URLs: <endpoint>/<repo>/resolve/<revision>/<file>. A HEAD answers with the commit (X-Repo-Commit),
 * the ETag (X-Linked-Etag, else ETag) and the size (X-Linked-Size, else Content-Length); an LFS file
 * answers 302 with an absolute Location on a CDN, fetched without the Authorization header.
 */
import { createHash, type Hash } from 'node:crypto';
import {
  copyFileSync,
  createReadStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { UserError } from '../errors';

export interface DownloadProgress {
  /** The file's path inside the repo, e.g. `model-00001-of-00002.safetensors`. */
  file: string;
  /** Bytes of this file on disk so far (resumed bytes included); never decreases. */
  bytes: number;
  total: number;
  /** Over this call's transfer only (resumed bytes excluded). */
  bytesPerSec: number;
  /** Seconds left at the current rate; Infinity before any byte arrived, 0 when done. */
  etaSec: number;
}

export interface ResolveOptions {
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  /** Default: HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub. */
  cacheDir?: string;
  /** Default: HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /** Default: HF_TOKEN, else the token `huggingface-cli login` stored. */
  token?: string;
  /** Default: HF_HUB_OFFLINE=1. Resolve from the cache only. */
  offline?: boolean;
}

const DEFAULT_ENDPOINT = 'https://huggingface.co';
const COMMIT_RE = /^[0-9a-f]{40}$/;
const SHA256_RE = /^[0-9a-f]{64}$/;
/** An ETag we accept as a blob file name. */
const ETAG_RE = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const REPO_RE = /^(?:[A-Za-z0-9][\w.-]*\/)?[A-Za-z0-9][\w.-]*$/;
const USER_AGENT = 'localtune/0.1';
/** A connection that sends nothing for this long is dropped (and resumed). */
const IDLE_TIMEOUT_MS = 30_000;
/** Attempts per file after a dropped connection that had made progress. */
const RESUME_ATTEMPTS = 3;
const PROGRESS_EVERY_MS = 100;

/** The files a model folder needs besides its weights; `false` = optional. */
const MODEL_FILES: [string, boolean][] = [
  ['config.json', true],
  ['generation_config.json', false],
  ['tokenizer.json', true],
  ['tokenizer_config.json', true],
  ['special_tokens_map.json', false],
];
const WEIGHTS = 'model.safetensors';
const WEIGHTS_INDEX = 'model.safetensors.index.json';
const PICKLE_WEIGHTS = ['pytorch_model.bin', 'pytorch_model.bin.index.json'];

// ---- ids, environment, cache paths ----

export interface HubId {
  repo: string;
  /** A branch, tag or 40-hex commit; `main` when the id names none. */
  revision: string;
}

/** `org/name[@revision]` (or a bare canonical `name`), or null when `s` is not a hub id. */
export function parseHubId(s: string): HubId | null {
  const at = s.indexOf('@');
  const repo = at < 0 ? s : s.slice(0, at);
  const revision = at < 0 ? 'main' : s.slice(at + 1);
  if (!REPO_RE.test(repo) || repo.includes('..') || repo.includes('--')) return null;
  if (!isSafeRelativePath(revision) || /\s/.test(revision)) return null;
  return { repo, revision };
}

function isTrue(v: string | undefined): boolean {
  return ['1', 'true', 'yes', 'on'].includes((v ?? '').trim().toLowerCase());
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p;
}

function hfHome(env: NodeJS.ProcessEnv): string {
  if (env.HF_HOME) return expandHome(env.HF_HOME);
  return join(env.XDG_CACHE_HOME ? expandHome(env.XDG_CACHE_HOME) : join(homedir(), '.cache'), 'huggingface');
}

/** The hub cache root huggingface_hub would use: HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub. */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE;
  return explicit ? expandHome(explicit) : join(hfHome(env), 'hub');
}

function hubToken(env: NodeJS.ProcessEnv): string | undefined {
  const fromEnv = env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN;
  if (fromEnv) return fromEnv.trim();
  const file = env.HF_TOKEN_PATH ? expandHome(env.HF_TOKEN_PATH) : join(hfHome(env), 'token');
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** `<cache>/models--org--name`. */
export function repoCacheDir(cacheDir: string, repo: string): string {
  return join(cacheDir, `models--${repo.split('/').join('--')}`);
}

/** No absolute paths, backslashes or `..` segments: a name the server sent stays inside its folder. */
function isSafeRelativePath(p: string): boolean {
  return (
    p.length > 0 &&
    !p.startsWith('/') &&
    !p.includes('\\') &&
    !p.includes('\0') &&
    p.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..')
  );
}

// ---- the entry point ----

interface Hub extends HubId {
  endpoint: string;
  token?: string;
  repoDir: string;
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
}

/**
 * A local model folder for `idOrDir`: an existing folder as is, or a hub id `org/name[@revision]`
 * downloaded into the hub cache (returns `<cache>/models--org--name/snapshots/<commit>`).
 * Expected failures are UserErrors naming the repo, the file and the HTTP status on one line;
 * an aborted `signal` rejects with its AbortError and leaves the partial file to resume.
 */
export async function resolveModel(idOrDir: string, o: ResolveOptions = {}): Promise<string> {
  if (isDirectory(idOrDir)) return idOrDir;
  if (existsSync(idOrDir)) throw new UserError(`${idOrDir}: is a file; pass the model folder that holds it`);
  const id = parseHubId(idOrDir);
  if (!id)
    throw new UserError(`${idOrDir}: no such model folder, and not a hub id (org/name or org/name@revision)`);
  const env = process.env;
  const cacheDir = o.cacheDir ?? hubCacheDir(env);
  const hub: Hub = {
    ...id,
    endpoint: (o.endpoint ?? env.HF_ENDPOINT ?? DEFAULT_ENDPOINT).replace(/\/+$/, ''),
    token: o.token ?? hubToken(env),
    repoDir: repoCacheDir(cacheDir, id.repo),
    signal: o.signal,
    onProgress: o.onProgress,
  };
  const offline = o.offline ?? isTrue(env.HF_HUB_OFFLINE);
  if (offline) {
    const cached = cachedSnapshot(hub);
    if ('dir' in cached) return cached.dir;
    const why = o.offline === undefined ? 'HF_HUB_OFFLINE is set' : 'offline mode is on';
    throw new UserError(
      `${where(hub)}: ${why} and the model is not in the cache ${hub.repoDir} (${cached.missing}); ` +
        `run once with the network, or unset HF_HUB_OFFLINE`,
    );
  }
  // A commit names immutable files: a complete snapshot needs no network at all.
  if (COMMIT_RE.test(hub.revision)) {
    const cached = cachedSnapshot(hub);
    if ('dir' in cached) return cached.dir;
  }
  return downloadSnapshot(hub);
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function where(hub: HubId): string {
  return `hub ${hub.repo}@${hub.revision}`;
}

// ---- the cache, read ----

/** The files of the snapshot a model folder needs that are not there (empty: complete). */
function missingModelFiles(dir: string): string[] {
  const missing = MODEL_FILES.filter(([f, required]) => required && !existsSync(join(dir, f))).map(
    ([f]) => f,
  );
  if (existsSync(join(dir, WEIGHTS))) return missing;
  if (!existsSync(join(dir, WEIGHTS_INDEX))) return [...missing, WEIGHTS];
  try {
    return [
      ...missing,
      ...shardFiles(dir, readFileSync(join(dir, WEIGHTS_INDEX), 'utf8')).filter(
        (s) => !existsSync(join(dir, s)),
      ),
    ];
  } catch {
    return [...missing, WEIGHTS_INDEX];
  }
}

function readRef(hub: Hub): string | null {
  try {
    const commit = readFileSync(join(hub.repoDir, 'refs', hub.revision), 'utf8').trim();
    return COMMIT_RE.test(commit) ? commit : null;
  } catch {
    return null;
  }
}

function cachedSnapshot(hub: Hub): { dir: string } | { missing: string } {
  const commit = COMMIT_RE.test(hub.revision) ? hub.revision : readRef(hub);
  if (!commit) return { missing: `no refs/${hub.revision}` };
  const dir = join(hub.repoDir, 'snapshots', commit);
  const missing = missingModelFiles(dir);
  return missing.length ? { missing: `snapshot ${commit} lacks ${missing.join(', ')}` } : { dir };
}

/** The shard files an index's weight_map names, each once, in order. */
function shardFiles(context: string, indexJson: string): string[] {
  let index: unknown;
  try {
    index = JSON.parse(indexJson);
  } catch {
    throw new UserError(`${context}: ${WEIGHTS_INDEX} is not valid JSON`);
  }
  const map = (index as { weight_map?: unknown } | null)?.weight_map;
  if (!map || typeof map !== 'object' || Array.isArray(map))
    throw new UserError(`${context}: ${WEIGHTS_INDEX} has no "weight_map" object`);
  const shards = [...new Set(Object.values(map as Record<string, unknown>))];
  for (const s of shards) {
    if (typeof s !== 'string' || !isSafeRelativePath(s) || !s.endsWith('.safetensors'))
      throw new UserError(
        `${context}: ${WEIGHTS_INDEX} names the shard ${JSON.stringify(s)}; expected a relative *.safetensors file`,
      );
  }
  return shards as string[];
}

// ---- the cache, written ----

/** Writes `content` to `path` through a temp file renamed into place. */
function writeAtomic(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}

/** snapshots/<commit>/<file> → blobs/<etag>, as a relative symlink (moves with the cache), else a copy. */
function linkIntoSnapshot(blob: string, pointer: string): void {
  mkdirSync(dirname(pointer), { recursive: true });
  const tmp = `${pointer}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  try {
    symlinkSync(relative(dirname(pointer), blob), tmp);
  } catch {
    copyFileSync(blob, tmp); // Windows without developer mode: no symlinks
  }
  renameSync(tmp, pointer);
}

// ---- HTTP ----

function send(
  method: 'HEAD' | 'GET',
  url: string,
  headers: Record<string, string>,
  signal?: AbortSignal,
): Promise<http.IncomingMessage> {
  const u = new URL(url);
  const client = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : null;
  if (!client) throw new UserError(`${url}: only http and https URLs can be fetched`);
  return new Promise((resolve, reject) => {
    const req = client.request(u, { method, headers, signal, timeout: IDLE_TIMEOUT_MS }, resolve);
    req.on('timeout', () => req.destroy(new Error(`no data for ${IDLE_TIMEOUT_MS / 1000} s`)));
    req.on('error', reject);
    req.end();
  });
}

function baseHeaders(hub: Hub, withToken: boolean): Record<string, string> {
  const h: Record<string, string> = { 'User-Agent': USER_AGENT, 'Accept-Encoding': 'identity' };
  if (withToken && hub.token) h.Authorization = `Bearer ${hub.token}`;
  return h;
}

function header(res: http.IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `W/"abc"` or `"abc"` → `abc`. */
function normalizeEtag(etag: string | undefined): string | undefined {
  return etag?.replace(/^W\//, '').replace(/^"|"$/g, '') || undefined;
}

/** One line naming the repo, the file and the HTTP status, with what to do about it. */
function httpError(hub: Hub, file: string, res: http.IncomingMessage): UserError {
  const status = res.statusCode ?? 0;
  const code = header(res, 'x-error-code');
  const serverMessage = header(res, 'x-error-message')?.replace(/\s+/g, ' ').trim();
  let hint: string;
  if (status === 401)
    hint = hub.token
      ? 'the token was refused, or the repository does not exist'
      : `the repository is gated or private, or does not exist; set HF_TOKEN to a token with access (${hub.endpoint}/settings/tokens)`;
  else if (status === 403)
    hint =
      code === 'GatedRepo'
        ? `this token has no access to the gated model; accept its terms at ${hub.endpoint}/${hub.repo}`
        : 'this token has no access to the repository';
  else if (status === 404)
    hint =
      code === 'RepoNotFound'
        ? 'repository not found'
        : code === 'RevisionNotFound'
          ? `revision "${hub.revision}" not found`
          : 'file not found';
  else if (status === 429) hint = 'rate limited; wait a minute and run again';
  else if (status >= 500) hint = 'server error; try again later';
  else hint = 'unexpected answer';
  const extra = serverMessage && !hint.includes(serverMessage) ? ` (${serverMessage})` : '';
  return new UserError(`${where(hub)}: ${file}: HTTP ${status}, ${hint}${extra}`);
}

interface FileMeta {
  commit: string;
  etag: string;
  /** NaN when the server did not say. */
  size: number;
  /** Where to GET the bytes: the resolve URL, or the CDN an LFS file redirects to. */
  url: string;
  /** Whether `url` is on the hub itself (then it gets the Authorization header). */
  onHub: boolean;
}

function resolveUrl(hub: Hub, revision: string, file: string): string {
  const path = file.split('/').map(encodeURIComponent).join('/');
  return `${hub.endpoint}/${hub.repo}/resolve/${encodeURIComponent(revision)}/${path}`;
}

/** HEAD of a file: its commit, ETag, size and download URL; null when the repo has no such file. */
async function fileMeta(hub: Hub, revision: string, file: string): Promise<FileMeta | null> {
  let url = resolveUrl(hub, revision, file);
  // The hub's headers, from the last hop that sent each (a relative redirect may carry them).
  const seen: Record<string, string | undefined> = {};
  const pick = (res: http.IncomingMessage, name: string) => (seen[name] = header(res, name) ?? seen[name]);
  for (let hop = 0; hop < 5; hop++) {
    const res = await send('HEAD', url, baseHeaders(hub, true), hub.signal);
    res.resume();
    const status = res.statusCode ?? 0;
    const location = header(res, 'location');
    for (const name of ['x-repo-commit', 'x-linked-etag', 'x-linked-size']) pick(res, name);
    // Relative redirects stay on the hub (a renamed repo): follow them. An absolute one is the CDN.
    if (status >= 300 && status < 400 && location && location.startsWith('/')) {
      url = new URL(location, url).href;
      continue;
    }
    if (status === 404 && (header(res, 'x-error-code') ?? 'EntryNotFound') === 'EntryNotFound') return null;
    const redirected = status >= 300 && status < 400 && !!location;
    if (!redirected && (status < 200 || status >= 300)) throw httpError(hub, file, res);
    const commit = seen['x-repo-commit'];
    const etag = normalizeEtag(seen['x-linked-etag'] ?? header(res, 'etag'));
    if (!commit || !COMMIT_RE.test(commit) || !etag || !ETAG_RE.test(etag))
      throw new UserError(
        `${where(hub)}: ${file}: HTTP ${status} without X-Repo-Commit or ETag headers; is ${hub.endpoint} a Hugging Face hub (HF_ENDPOINT)?`,
      );
    const size = Number(seen['x-linked-size'] ?? (redirected ? undefined : header(res, 'content-length')));
    return { commit, etag, size, url: redirected ? new URL(location!, url).href : url, onHub: !redirected };
  }
  throw new UserError(`${where(hub)}: ${file}: too many redirects`);
}

// ---- downloading one file ----

class Progress {
  private readonly t0 = Date.now();
  private lastEmit = 0;
  private lastBytes = -1;

  constructor(
    private readonly hub: Hub,
    private readonly file: string,
    private readonly startBytes: number,
  ) {}

  report(bytes: number, total: number, final = false): void {
    const now = Date.now();
    if (!this.hub.onProgress || bytes < this.lastBytes) return;
    if (!final && (bytes === this.lastBytes || now - this.lastEmit < PROGRESS_EVERY_MS)) return;
    this.lastEmit = now;
    this.lastBytes = bytes;
    const seconds = Math.max((now - this.t0) / 1000, 1e-3);
    const bytesPerSec = Math.max(bytes - this.startBytes, 0) / seconds;
    const left = Math.max(total - bytes, 0);
    const etaSec = left === 0 ? 0 : bytesPerSec > 0 ? left / bytesPerSec : Infinity;
    this.hub.onProgress({ file: this.file, bytes, total, bytesPerSec, etaSec });
  }
}

/** sha256 of the bytes already in a partial file, so a resumed download still checks the whole file. */
async function hashPrefix(path: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * Downloads a blob into `<blob>.incomplete` (resuming what is there), checks its size and, for LFS
 * files, its sha256, then renames it into place. A bad file is deleted; a dropped connection keeps
 * the partial file and is resumed here up to RESUME_ATTEMPTS times, then by the next call.
 */
async function fetchBlob(hub: Hub, file: string, meta: FileMeta): Promise<string> {
  const blob = join(hub.repoDir, 'blobs', meta.etag);
  if (existsSync(blob)) return blob;
  mkdirSync(dirname(blob), { recursive: true });
  const partial = `${blob}.incomplete`;
  const lfs = SHA256_RE.test(meta.etag);
  let have = sizeOf(partial);
  if (have > 0 && Number.isFinite(meta.size) && have > meta.size) {
    truncateSync(partial, 0);
    have = 0;
  }
  let hash = lfs ? createHash('sha256') : null;
  if (hash && have > 0) await hashPrefix(partial, hash);
  const progress = new Progress(hub, file, have);
  let total = meta.size;
  let restarted = false;

  for (let attempt = 1; ; attempt++) {
    const before = sizeOf(partial);
    try {
      total = await getInto(hub, file, meta, partial, hash, progress);
      break;
    } catch (err) {
      if (err instanceof RestartError && !restarted) {
        restarted = true; // the partial file was emptied: one fresh download
        hash = lfs ? createHash('sha256') : null;
        continue;
      }
      if (hub.signal?.aborted) throw hub.signal.reason;
      if (err instanceof UserError) throw err;
      const after = sizeOf(partial);
      if (attempt < RESUME_ATTEMPTS && after > before) {
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
        continue;
      }
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      const of = Number.isFinite(total) ? ` of ${total}` : '';
      throw new UserError(
        `${where(hub)}: ${file}: download interrupted at ${after}${of} bytes (${code}); run again to resume`,
      );
    }
  }

  const got = sizeOf(partial);
  const reject = (what: string): never => {
    unlinkSync(partial);
    throw new UserError(`${where(hub)}: ${file}: ${what}; the download was discarded, run again`);
  };
  if (Number.isFinite(meta.size) && got !== meta.size)
    reject(`got ${got} bytes but the hub announced ${meta.size}`);
  if (hash) {
    const digest = hash.digest('hex');
    if (digest !== meta.etag) reject(`sha256 ${digest} does not match the hub's ${meta.etag}`);
  }
  progress.report(got, Number.isFinite(total) ? total : got, true);
  renameSync(partial, blob);
  return blob;
}

/** One GET appending to `partial` from its current size; returns the file's total size. */
async function getInto(
  hub: Hub,
  file: string,
  meta: FileMeta,
  partial: string,
  hash: Hash | null,
  progress: Progress,
): Promise<number> {
  let have = sizeOf(partial);
  if (Number.isFinite(meta.size) && have === meta.size) return meta.size;
  let url = meta.url;
  let onHub = meta.onHub;
  for (let hop = 0; hop < 5; hop++) {
    const headers = baseHeaders(hub, onHub);
    if (have > 0) headers.Range = `bytes=${have}-`;
    const res = await send('GET', url, headers, hub.signal);
    const status = res.statusCode ?? 0;
    const location = header(res, 'location');
    if (status >= 300 && status < 400 && location) {
      res.resume();
      const next = new URL(location, url);
      onHub = onHub && next.origin === new URL(url).origin; // the token never leaves the hub
      url = next.href;
      continue;
    }
    const resumed = status === 206 && (header(res, 'content-range') ?? '').startsWith(`bytes ${have}-`);
    if (have > 0 && (status === 416 || status === 200 || (status === 206 && !resumed))) {
      // The server would not (or could not) continue from our offset: start over.
      res.resume();
      truncateSync(partial, 0);
      throw new RestartError();
    }
    if (status !== 200 && status !== 206) {
      res.resume();
      throw httpError(hub, file, res);
    }
    const length = Number(header(res, 'content-length'));
    const total = Number.isFinite(meta.size) ? meta.size : have + length;
    const fh = await open(partial, 'a');
    try {
      for await (const chunk of res) {
        await fh.write(chunk as Buffer);
        hash?.update(chunk as Buffer);
        have += (chunk as Buffer).length;
        progress.report(have, total);
      }
    } finally {
      await fh.close();
    }
    return Number.isFinite(total) ? total : have;
  }
  throw new UserError(`${where(hub)}: ${file}: too many redirects`);
}

/** The server ignored our Range: the partial file was emptied and the download starts over. */
class RestartError extends Error {}

// ---- a whole model ----

async function downloadSnapshot(hub: Hub): Promise<string> {
  // config.json first: its X-Repo-Commit pins every other file to the same commit.
  let config: FileMeta | null;
  try {
    config = await fileMeta(hub, hub.revision, 'config.json');
  } catch (err) {
    if (hub.signal?.aborted) throw hub.signal.reason;
    if (err instanceof UserError) throw err;
    const cached = cachedSnapshot(hub); // no network: fall back to the cache, as huggingface_hub does
    if ('dir' in cached) return cached.dir;
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new UserError(
      `${where(hub)}: cannot reach ${hub.endpoint} (${code}) and the model is not in the cache ${hub.repoDir} (${cached.missing})`,
    );
  }
  if (!config)
    throw new UserError(
      `${where(hub)}: config.json: HTTP 404, file not found; is this a transformers model?`,
    );
  const commit = config.commit;
  if (hub.revision !== commit) writeAtomic(join(hub.repoDir, 'refs', hub.revision), commit);
  const snapshot = join(hub.repoDir, 'snapshots', commit);

  /** Puts `file` into the snapshot; false when the repo has no such file (and it is optional). */
  const fetchFile = async (file: string, required: boolean, meta?: FileMeta | null): Promise<boolean> => {
    hub.signal?.throwIfAborted();
    const pointer = join(snapshot, file);
    const absent = join(hub.repoDir, '.no_exist', commit, file);
    if (existsSync(pointer)) return true; // a commit's files never change
    if (!required && existsSync(absent)) return false;
    const m = meta !== undefined ? meta : await fileMeta(hub, commit, file);
    if (!m) {
      if (required)
        throw new UserError(
          `${where(hub)}: ${file}: HTTP 404, file not found; LocalTune needs it to load the model`,
        );
      writeAtomic(absent, '');
      return false;
    }
    linkIntoSnapshot(await fetchBlob(hub, file, m), pointer);
    return true;
  };

  // Its bytes too come from the commit, not the branch (which may move meanwhile).
  const pinned = { ...config, url: config.onHub ? resolveUrl(hub, commit, 'config.json') : config.url };
  for (const [file, required] of MODEL_FILES)
    await fetchFile(file, required, file === 'config.json' ? pinned : undefined);
  if (await fetchFile(WEIGHTS, false)) return snapshot;
  if (await fetchFile(WEIGHTS_INDEX, false)) {
    const shards = shardFiles(where(hub), readFileSync(join(snapshot, WEIGHTS_INDEX), 'utf8'));
    for (const shard of shards) await fetchFile(shard, true);
    return snapshot;
  }
  for (const pickle of PICKLE_WEIGHTS) {
    if (await fileMeta(hub, commit, pickle))
      throw new UserError(
        `${where(hub)}: only a pickle checkpoint (${pickle}) is published at this revision; LocalTune never runs pickled code — ` +
          `pick a revision with ${WEIGHTS} (e.g. the "refs/pr/N" safetensors conversion) as ${hub.repo}@<revision>`,
      );
  }
  throw new UserError(`${where(hub)}: no ${WEIGHTS} or ${WEIGHTS_INDEX} at this revision`);
}
