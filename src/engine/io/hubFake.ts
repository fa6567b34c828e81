/**
 * A stand-in for the Hugging Face hub on 127.0.0.1, for tests and offline demos (there is no route to
 * the real hub here: docs/offline-fixtures.md). It serves test-made files with the hub's URL layout
 * and headers:
 *
 *   HEAD|GET /<org>/<name>/resolve/<revision>/<file>
 *     small files: 200, ETag "<git blob sha1>", X-Repo-Commit, Content-Length, Range support
 *     LFS files (*.safetensors, *.bin): 302 to a second server (the "CDN", another origin) with
 *       X-Linked-Etag "<sha256>", X-Linked-Size, X-Repo-Commit
 *     unknown repo: 401 RepoNotFound; unknown revision: 404 RevisionNotFound; unknown file: 404 EntryNotFound
 *     a repo with a token: 401 GatedRepo without one, 403 GatedRepo with a wrong one
 *     a renamed repo: 307 with a relative Location under the new name
 *
 * Faults a test can inject: drop a file's connection after N bytes, or lie about its size or hash.
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRepo {
  /** `org/name`. */
  repo: string;
  /** commit (40 hex) → file path → bytes. */
  commits: Record<string, Record<string, Uint8Array | string>>;
  /** Branch or tag → commit; `main` must be one of them to resolve the bare id. */
  refs: Record<string, string>;
  /** When set, the repo is gated: requests need `Authorization: Bearer <token>`. */
  token?: string;
}

export interface FakeRequest {
  server: 'hub' | 'cdn';
  method: string;
  path: string;
  range?: string;
  authorization?: string;
}

export interface Fault {
  /** The next `times` GETs of the file send this many bytes (of what was asked) and cut the connection. */
  dropAfter?: { bytes: number; times: number };
  /** Announce this size in the HEAD instead of the real one. */
  size?: number;
  /** Serve these bytes instead of the file's (headers still describe the real file). */
  body?: Uint8Array;
}

export function gitBlobSha1(bytes: Uint8Array): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const isLfs = (file: string) => /\.(safetensors|bin)$/.test(file);

export class FakeHub {
  readonly requests: FakeRequest[] = [];
  /** Renamed repos, old id → new id: answered with a relative 307, as the hub does. */
  readonly renamed = new Map<string, string>();
  /** Faults by file path (any repo, any revision). */
  readonly faults = new Map<string, Fault>();
  private readonly blobs = new Map<string, { bytes: Uint8Array; file: string }>(); // sha256 → what the CDN serves

  private constructor(
    private readonly repos: FakeRepo[],
    private readonly hub: http.Server,
    private readonly cdn: http.Server,
  ) {}

  /** Starts the hub and its CDN on random ports of 127.0.0.1. */
  static async start(repos: FakeRepo[]): Promise<FakeHub> {
    const hub = http.createServer();
    const cdn = http.createServer();
    const self = new FakeHub(repos, hub, cdn);
    hub.on('request', (req, res) => self.serveHub(req, res));
    cdn.on('request', (req, res) => self.serveCdn(req, res));
    for (const server of [hub, cdn])
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return self;
  }

  /** For HF_ENDPOINT / `endpoint`. */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.hub.address() as AddressInfo).port}`;
  }

  private get cdnOrigin(): string {
    return `http://127.0.0.1:${(this.cdn.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const s of [this.hub, this.cdn]) {
      if (!s.listening) continue;
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    }
  }

  private record(server: FakeRequest['server'], req: http.IncomingMessage): void {
    this.requests.push({
      server,
      method: req.method ?? '',
      path: req.url ?? '',
      range: req.headers.range,
      authorization: req.headers.authorization,
    });
  }

  private serveHub(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.record('hub', req);
    const fail = (status: number, code: string, message: string) => {
      res.writeHead(status, { 'X-Error-Code': code, 'X-Error-Message': message });
      res.end();
    };
    const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(req.url ?? '');
    if (!m) return fail(404, 'RepoNotFound', 'Repository not found');
    const [repoId, revision, file] = [m[1], decodeURIComponent(m[2]), decodeURIComponent(m[3])];
    const movedTo = this.renamed.get(repoId);
    if (movedTo) {
      res.writeHead(307, { Location: `/${movedTo}/resolve/${m[2]}/${m[3]}` });
      return void res.end();
    }
    const repo = this.repos.find((r) => r.repo === repoId);
    if (!repo) return fail(401, 'RepoNotFound', 'Repository not found');
    if (repo.token) {
      const auth = req.headers.authorization;
      if (!auth)
        return fail(401, 'GatedRepo', 'Access to this model is restricted. You must be authenticated.');
      if (auth !== `Bearer ${repo.token}`)
        return fail(403, 'GatedRepo', 'Access to this model is restricted.');
    }
    const commit = repo.refs[revision] ?? (repo.commits[revision] ? revision : undefined);
    if (!commit) return fail(404, 'RevisionNotFound', 'Invalid rev id');
    const raw = repo.commits[commit][file];
    if (raw === undefined) return fail(404, 'EntryNotFound', 'Entry not found');
    const bytes = typeof raw === 'string' ? Buffer.from(raw) : raw;
    const fault = this.faults.get(file) ?? {};
    const size = String(fault.size ?? bytes.length);
    if (isLfs(file)) {
      const sha = sha256Hex(bytes);
      this.blobs.set(sha, { bytes: fault.body ?? bytes, file });
      res.writeHead(302, {
        Location: `${this.cdnOrigin}/repos/${sha}?response-content-disposition=attachment`,
        'X-Repo-Commit': commit,
        'X-Linked-Etag': `"${sha}"`,
        'X-Linked-Size': size,
        ETag: `"${gitBlobSha1(Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha}\n`))}"`,
        'Content-Length': '0',
      });
      return void res.end();
    }
    this.serveBytes(req, res, fault.body ?? bytes, file, {
      'X-Repo-Commit': commit,
      ETag: `"${gitBlobSha1(bytes)}"`,
      ...(fault.size !== undefined && req.method === 'HEAD' ? { 'Content-Length': size } : {}),
    });
  }

  private serveCdn(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.record('cdn', req);
    const m = /^\/repos\/([0-9a-f]{64})/.exec(req.url ?? '');
    const blob = m && this.blobs.get(m[1]);
    if (!blob) {
      res.writeHead(404);
      return void res.end();
    }
    this.serveBytes(req, res, blob.bytes, blob.file, { ETag: `"${m[1]}"` });
  }

  /** 200 or 206 (single `bytes=N-` / `bytes=N-M` range), honouring an injected drop. */
  private serveBytes(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    bytes: Uint8Array,
    file: string,
    headers: Record<string, string>,
  ): void {
    let start = 0;
    let end = bytes.length - 1;
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      start = Number(range[1]);
      if (range[2]) end = Math.min(Number(range[2]), end);
      if (start >= bytes.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${bytes.length}` });
        return void res.end();
      }
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${end}/${bytes.length}`;
    }
    const body = bytes.subarray(start, end + 1);
    res.writeHead(status, { 'Accept-Ranges': 'bytes', 'Content-Length': String(body.length), ...headers });
    if (req.method === 'HEAD') return void res.end();
    const drop = this.faults.get(file)?.dropAfter;
    if (drop && drop.times > 0 && drop.bytes < body.length) {
      drop.times--;
      // Send part of the body, let it reach the client, then cut the connection mid-transfer.
      res.write(body.subarray(0, drop.bytes), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(body);
  }
}
