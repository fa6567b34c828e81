import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../../src/engine/errors';
import { hubCacheDir, parseHubId, resolveModel, type DownloadProgress } from '../../../src/engine/hub/hub';
import { FakeHub, gitBlobSha1, sha256Hex, type FakeRepo } from '../../../fixtures/hubFake';
import { formatProgress, progressLines } from '../../../src/engine/hub/hubProgress';
import { writeGpt2Model } from '../../../fixtures/tinyModel';
import { openWeights } from '../../../src/engine/formats/weights';
import { loadModel } from '../../../src/engine/models';

const MAIN = '1'.repeat(40);
const TAGGED = 'abcdef0123456789abcdef0123456789abcdef01';
const TINY = { nLayer: 1, nHead: 2, nEmbd: 8, nPositions: 16 };

let scratch: string;
/** The files of a tiny GPT-2 folder written by writeGpt2Model (the hub serves them). */
let gpt2Files: Record<string, Uint8Array>;

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'localtune-hub-'));
  // Never read the machine's own HF settings or token.
  process.env.HF_HOME = join(scratch, 'hf-home');
  for (const k of ['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HF_HUB_CACHE', 'HF_HUB_OFFLINE', 'HF_ENDPOINT'])
    delete process.env[k];
  const dir = join(scratch, 'gpt2');
  await writeGpt2Model(dir, TINY, 3);
  gpt2Files = Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))]));
});
after(() => rmSync(scratch, { recursive: true, force: true }));

let caches = 0;
function freshCache(): string {
  const dir = join(scratch, `cache-${caches++}`);
  mkdirSync(dir);
  return dir;
}

/** A hub serving `org/tiny` (main → MAIN, tag abc123 → TAGGED with another config). */
async function startHub(t: { after: (fn: () => Promise<void>) => void }, extra: FakeRepo[] = []) {
  const tagged = { ...gpt2Files, 'config.json': '{"model_type":"gpt2","tagged":true}' };
  const hub = await FakeHub.start([
    {
      repo: 'org/tiny',
      commits: { [MAIN]: gpt2Files, [TAGGED]: tagged },
      refs: { main: MAIN, abc123: TAGGED },
    },
    ...extra,
  ]);
  t.after(() => hub.close());
  return hub;
}

function assertUserError(err: unknown, ...parts: string[]): true {
  assert.ok(err instanceof UserError, `expected a UserError, got ${err}`);
  assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
  for (const p of parts) assert.ok(err.message.includes(p), `"${err.message}" lacks "${p}"`);
  return true;
}

function blobsIn(cache: string, repo = 'org/tiny'): string[] {
  const dir = join(cache, `models--${repo.replace('/', '--')}`, 'blobs');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

test('parseHubId: org/name[@revision], bare names; paths and odd names are not ids', () => {
  assert.deepEqual(parseHubId('org/name'), { repo: 'org/name', revision: 'main' });
  assert.deepEqual(parseHubId('HuggingFaceTB/SmolLM2-135M@abc123'), {
    repo: 'HuggingFaceTB/SmolLM2-135M',
    revision: 'abc123',
  });
  assert.deepEqual(parseHubId('gpt2@refs/pr/1'), { repo: 'gpt2', revision: 'refs/pr/1' });
  for (const s of ['./model', '/abs/path', 'a/b/c', 'org/../x', 'org/name@', 'org/name@../x', 'a--b/c'])
    assert.equal(parseHubId(s), null, s);
});

test('hubCacheDir: HF_HUB_CACHE, else HF_HOME/hub, else XDG_CACHE_HOME or ~/.cache', () => {
  assert.equal(hubCacheDir({ HF_HUB_CACHE: '/c', HF_HOME: '/h' }), '/c');
  assert.equal(hubCacheDir({ HF_HOME: '/h' }), '/h/hub');
  assert.equal(hubCacheDir({ XDG_CACHE_HOME: '/x' }), '/x/huggingface/hub');
  assert.match(hubCacheDir({}), /\.cache\/huggingface\/hub$/);
});

test('a local folder is returned as is; a missing one that is not an id is a clear error', async () => {
  assert.equal(await resolveModel(scratch), scratch);
  await assert.rejects(resolveModel('./no/such/folder'), (e) =>
    assertUserError(e, './no/such/folder', 'hub id'),
  );
});

test('download into the hub cache layout: refs/main, snapshots -> blobs, LFS via the CDN without the token', async (t) => {
  const hub = await startHub(t);
  const cache = freshCache();
  const dir = await resolveModel('org/tiny', { endpoint: hub.endpoint, cacheDir: cache, token: 'hf_secret' });
  const repoDir = join(cache, 'models--org--tiny');
  assert.equal(dir, join(repoDir, 'snapshots', MAIN));
  assert.equal(readFileSync(join(repoDir, 'refs', 'main'), 'utf8'), MAIN);

  const st = gpt2Files['model.safetensors'];
  const cfg = gpt2Files['config.json'];
  assert.deepEqual(
    blobsIn(cache),
    Object.entries(gpt2Files)
      .map(([f, b]) => (f.endsWith('.safetensors') ? sha256Hex(b) : gitBlobSha1(b)))
      .sort(),
  );
  assert.ok(lstatSync(join(dir, 'config.json')).isSymbolicLink());
  assert.equal(readlinkSync(join(dir, 'config.json')), join('..', '..', 'blobs', gitBlobSha1(cfg)));
  assert.equal(readlinkSync(join(dir, 'model.safetensors')), join('..', '..', 'blobs', sha256Hex(st)));
  for (const [f, bytes] of Object.entries(gpt2Files)) assert.deepEqual(readFileSync(join(dir, f)), bytes, f);
  // The repo has no special_tokens_map.json: remembered, as huggingface_hub does.
  assert.ok(existsSync(join(repoDir, '.no_exist', MAIN, 'special_tokens_map.json')));

  const cdn = hub.requests.filter((r) => r.server === 'cdn');
  assert.equal(cdn.length, 1);
  assert.equal(cdn[0].authorization, undefined, 'the token is never sent to the CDN');
  assert.ok(
    hub.requests.filter((r) => r.server === 'hub').every((r) => r.authorization === 'Bearer hf_secret'),
  );
  // Every file after config.json is asked for at the commit config.json resolved to.
  assert.ok(hub.requests.slice(1).every((r) => r.server === 'cdn' || r.path.includes(`/resolve/${MAIN}/`)));

  const model = loadModel(dir);
  assert.equal(model.modelType, 'gpt2');
  model.weights.close();

  // Again: one HEAD to see where main points, nothing downloaded.
  hub.requests.length = 0;
  assert.equal(await resolveModel('org/tiny', { endpoint: hub.endpoint, cacheDir: cache }), dir);
  assert.deepEqual(
    hub.requests.map((r) => `${r.method} ${r.path}`),
    [`HEAD /org/tiny/resolve/main/config.json`],
  );
});

test('revision @abc123 resolves to its own commit and refs/abc123; a full commit needs no network once cached', async (t) => {
  const hub = await startHub(t);
  const cache = freshCache();
  const repoDir = join(cache, 'models--org--tiny');
  const dir = await resolveModel('org/tiny@abc123', { endpoint: hub.endpoint, cacheDir: cache });
  assert.equal(dir, join(repoDir, 'snapshots', TAGGED));
  assert.equal(readFileSync(join(repoDir, 'refs', 'abc123'), 'utf8'), TAGGED);
  assert.equal(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).tagged, true);
  // The weights are the same blob as main's: fetched once, shared by both snapshots.
  const main = await resolveModel('org/tiny', { endpoint: hub.endpoint, cacheDir: cache });
  assert.equal(main, join(repoDir, 'snapshots', MAIN));
  assert.equal(hub.requests.filter((r) => r.server === 'cdn').length, 1);

  const byCommit = await resolveModel(`org/tiny@${TAGGED}`, {
    endpoint: 'http://127.0.0.1:9',
    cacheDir: cache,
  });
  assert.equal(byCommit, dir);
  assert.ok(!existsSync(join(repoDir, 'refs', TAGGED)), 'no ref file for a commit');

  await assert.rejects(resolveModel('org/tiny@nope', { endpoint: hub.endpoint, cacheDir: cache }), (e) =>
    assertUserError(e, 'hub org/tiny@nope', 'config.json', 'HTTP 404', 'revision "nope" not found'),
  );
});

test('a renamed repo: the relative redirect is followed, the cache keeps the name asked for', async (t) => {
  const hub = await startHub(t);
  hub.renamed.set('old/tiny', 'org/tiny');
  const cache = freshCache();
  const dir = await resolveModel('old/tiny', { endpoint: hub.endpoint, cacheDir: cache });
  assert.equal(dir, join(cache, 'models--old--tiny', 'snapshots', MAIN));
  assert.deepEqual(readFileSync(join(dir, 'model.safetensors')), gpt2Files['model.safetensors']);
});

test('a dropped connection is resumed with Range in the same call; bytes identical; progress monotonic', async (t) => {
  const hub = await startHub(t);
  const cache = freshCache();
  const size = gpt2Files['model.safetensors'].length;
  hub.faults.set('model.safetensors', { dropAfter: { bytes: Math.floor(size / 3), times: 1 } });
  const events: DownloadProgress[] = [];
  const dir = await resolveModel('org/tiny', {
    endpoint: hub.endpoint,
    cacheDir: cache,
    onProgress: (p) => events.push(p),
  });
  assert.deepEqual(readFileSync(join(dir, 'model.safetensors')), gpt2Files['model.safetensors']);
  const gets = hub.requests.filter((r) => r.server === 'cdn');
  assert.deepEqual(
    gets.map((r) => r.range),
    [undefined, `bytes=${Math.floor(size / 3)}-`],
  );

  const model = events.filter((e) => e.file === 'model.safetensors');
  assert.ok(model.length >= 2, `${model.length} progress events`);
  for (let i = 1; i < model.length; i++) assert.ok(model[i].bytes >= model[i - 1].bytes, 'monotonic');
  const last = model.at(-1)!;
  assert.equal(last.bytes, size);
  assert.equal(last.total, size);
  assert.equal(last.etaSec, 0);
  assert.ok(model.every((e) => e.total === size && e.bytesPerSec >= 0));
  for (const f of Object.keys(gpt2Files)) {
    const fileEvents = events.filter((e) => e.file === f);
    assert.equal(fileEvents.at(-1)?.bytes, gpt2Files[f].length, f);
  }
});

test('a download cut more often than it retries leaves only .incomplete; the next call resumes it', async (t) => {
  const hub = await startHub(t);
  const cache = freshCache();
  const st = gpt2Files['model.safetensors'];
  const chunk = 100_000;
  hub.faults.set('model.safetensors', { dropAfter: { bytes: chunk, times: 3 } });
  await assert.rejects(resolveModel('org/tiny', { endpoint: hub.endpoint, cacheDir: cache }), (e) =>
    assertUserError(e, 'hub org/tiny@main', 'model.safetensors', 'interrupted', 'run again to resume'),
  );
  const sha = sha256Hex(st);
  assert.ok(blobsIn(cache).includes(`${sha}.incomplete`));
  assert.ok(!blobsIn(cache).includes(sha), 'no half file under the final name');
  assert.equal(
    readFileSync(join(cache, 'models--org--tiny', 'blobs', `${sha}.incomplete`)).length,
    3 * chunk,
  );
  assert.ok(!existsSync(join(cache, 'models--org--tiny', 'snapshots', MAIN, 'model.safetensors')));

  hub.requests.length = 0;
  const dir = await resolveModel('org/tiny', { endpoint: hub.endpoint, cacheDir: cache });
  assert.deepEqual(
    hub.requests.filter((r) => r.server === 'cdn').map((r) => r.range),
    [`bytes=${3 * chunk}-`],
  );
  assert.deepEqual(readFileSync(join(dir, 'model.safetensors')), st);
  assert.ok(!blobsIn(cache).some((b) => b.endsWith('.incomplete')));
});

test('a wrong size or a wrong sha256 is rejected and nothing is left in the cache', async (t) => {
  const hub = await startHub(t);
  const st = gpt2Files['model.safetensors'];

  let cache = freshCache();
  hub.faults.set('model.safetensors', { size: st.length + 10 });
  await assert.rejects(resolveModel('org/tiny', { endpoint: hub.endpoint, cacheDir: cache }), (e) =>
    assertUserError(
      e,
      'hub org/tiny@main',
      'model.safetensors',
      `got ${st.length} bytes`,
      `${st.length + 10}`,
    ),
  );
  assert.ok(!blobsIn(cache).some((b) => b.startsWith(sha256Hex(st))), 'neither blob nor .incomplete');

  cache = freshCache();
  const corrupt = Buffer.from(st);
  corrupt[corrupt.length - 1] ^= 0xff;
  hub.faults.set('model.safetensors', { body: corrupt });
  await assert.rejects(resolveModel('org/tiny', { endpoint: hub.endpoint, cacheDir: cache }), (e) =>
    assertUserError(e, 'model.safetensors', 'sha256', sha256Hex(st)),
  );
  assert.ok(!blobsIn(cache).some((b) => b.startsWith(sha256Hex(st))));
  assert.ok(!existsSync(join(cache, 'models--org--tiny', 'snapshots', MAIN, 'model.safetensors')));

  // A small (non-LFS) file with a lying Content-Length.
  cache = freshCache();
  hub.faults.clear();
  hub.faults.set('tokenizer.json', { size: 5 });
  await assert.rejects(resolveModel('org/tiny', { endpoint: hub.endpoint, cacheDir: cache }), (e) =>
    assertUserError(e, 'tokenizer.json', 'announced 5'),
  );
  assert.ok(!blobsIn(cache).includes(gitBlobSha1(gpt2Files['tokenizer.json'])));
});

test('a gated repo: 401 without a token, 403 with a wrong one, 200 with HF_TOKEN', async (t) => {
  const hub = await startHub(t, [
    { repo: 'meta/gated', commits: { [MAIN]: gpt2Files }, refs: { main: MAIN }, token: 'hf_good' },
  ]);
  const cache = freshCache();
  await assert.rejects(resolveModel('meta/gated', { endpoint: hub.endpoint, cacheDir: cache }), (e) =>
    assertUserError(e, 'hub meta/gated@main', 'config.json', 'HTTP 401', 'HF_TOKEN'),
  );
  await assert.rejects(
    resolveModel('meta/gated', { endpoint: hub.endpoint, cacheDir: cache, token: 'hf_bad' }),
    (e) => assertUserError(e, 'hub meta/gated@main', 'config.json', 'HTTP 403', `${hub.endpoint}/meta/gated`),
  );
  process.env.HF_TOKEN = 'hf_good';
  t.after(() => delete process.env.HF_TOKEN);
  const dir = await resolveModel('meta/gated', { endpoint: hub.endpoint, cacheDir: cache });
  assert.deepEqual(readFileSync(join(dir, 'model.safetensors')), gpt2Files['model.safetensors']);

  await assert.rejects(resolveModel('nobody/nothing', { endpoint: hub.endpoint, cacheDir: cache }), (e) =>
    assertUserError(e, 'hub nobody/nothing@main', 'HTTP 401'),
  );
});

test('HF_HUB_OFFLINE=1 resolves from the cache with no network, and fails clearly without it', async (t) => {
  const hub = await startHub(t);
  const cache = freshCache();
  process.env.HF_HUB_CACHE = cache;
  process.env.HF_ENDPOINT = hub.endpoint;
  t.after(() => {
    delete process.env.HF_HUB_CACHE;
    delete process.env.HF_ENDPOINT;
    delete process.env.HF_HUB_OFFLINE;
  });
  const online = await resolveModel('org/tiny');
  assert.ok(online.startsWith(cache));

  process.env.HF_HUB_OFFLINE = '1';
  hub.requests.length = 0;
  assert.equal(await resolveModel('org/tiny'), online);
  assert.equal(hub.requests.length, 0, 'offline: no request at all');
  await assert.rejects(resolveModel('org/tiny@abc123'), (e) =>
    assertUserError(e, 'hub org/tiny@abc123', 'HF_HUB_OFFLINE', 'not in the cache', 'refs/abc123'),
  );
  await assert.rejects(resolveModel('org/other', { cacheDir: freshCache() }), (e) =>
    assertUserError(e, 'hub org/other@main', 'HF_HUB_OFFLINE'),
  );
  // A snapshot that lost a file is not complete.
  rmSync(join(online, 'tokenizer.json'));
  await assert.rejects(resolveModel('org/tiny'), (e) => assertUserError(e, 'lacks tokenizer.json'));
});

test('with the hub unreachable, a cached model is still used; an uncached one names the endpoint', async (t) => {
  const hub = await startHub(t);
  const cache = freshCache();
  const endpoint = hub.endpoint;
  const dir = await resolveModel('org/tiny', { endpoint, cacheDir: cache });
  await hub.close();
  assert.equal(await resolveModel('org/tiny', { endpoint, cacheDir: cache }), dir);
  await assert.rejects(resolveModel('org/tiny', { endpoint, cacheDir: freshCache() }), (e) =>
    assertUserError(e, 'hub org/tiny@main', `cannot reach ${endpoint}`, 'ECONNREFUSED'),
  );
});

test('a sharded repo downloads its index and every shard', async (t) => {
  const [a, b] = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
  // Split the tiny model's one file by tensor: the weights tests cover the dtypes.
  const single = openWeights(join(scratch, 'gpt2'));
  const names = single.names();
  single.close();
  const index = { metadata: {}, weight_map: Object.fromEntries(names.map((n, i) => [n, i % 2 ? b : a])) };
  const files: Record<string, Uint8Array | string> = {
    ...gpt2Files,
    'model.safetensors.index.json': JSON.stringify(index),
  };
  delete files['model.safetensors'];
  files[a] = Buffer.from('shard a bytes');
  files[b] = Buffer.from('shard b bytes, longer');
  const hub = await startHub(t, [{ repo: 'org/sharded', commits: { [MAIN]: files }, refs: { main: MAIN } }]);
  const cache = freshCache();
  const dir = await resolveModel('org/sharded', { endpoint: hub.endpoint, cacheDir: cache });
  assert.equal(readFileSync(join(dir, b), 'utf8'), 'shard b bytes, longer');
  assert.ok(existsSync(join(dir, 'model.safetensors.index.json')));
  assert.ok(existsSync(join(cache, 'models--org--sharded', '.no_exist', MAIN, 'model.safetensors')));
  // Offline, the shards count towards a complete snapshot.
  assert.equal(await resolveModel('org/sharded', { cacheDir: cache, offline: true }), dir);
  rmSync(join(dir, a));
  await assert.rejects(resolveModel('org/sharded', { cacheDir: cache, offline: true }), (e) =>
    assertUserError(e, a),
  );
});

test('pickle-only repos are refused; a missing required file names the file and the status', async (t) => {
  const pickle: Record<string, Uint8Array> = { ...gpt2Files, 'pytorch_model.bin': Buffer.from('pickle') };
  delete pickle['model.safetensors'];
  const noTokenizer = { ...gpt2Files };
  delete noTokenizer['tokenizer.json'];
  const hub = await startHub(t, [
    { repo: 'old/pickle', commits: { [MAIN]: pickle }, refs: { main: MAIN } },
    { repo: 'org/notok', commits: { [MAIN]: noTokenizer }, refs: { main: MAIN } },
  ]);
  const cache = freshCache();
  await assert.rejects(resolveModel('old/pickle', { endpoint: hub.endpoint, cacheDir: cache }), (e) =>
    assertUserError(e, 'hub old/pickle@main', 'pytorch_model.bin', 'never runs pickled code', 'safetensors'),
  );
  assert.ok(!hub.requests.some((r) => r.path.endsWith('pytorch_model.bin') && r.method === 'GET'));
  await assert.rejects(resolveModel('org/notok', { endpoint: hub.endpoint, cacheDir: cache }), (e) =>
    assertUserError(e, 'hub org/notok@main', 'tokenizer.json', 'HTTP 404'),
  );
});

test('an aborted download rejects with AbortError and keeps its partial file for later', async (t) => {
  const hub = await startHub(t);
  const cache = freshCache();
  hub.faults.set('model.safetensors', { dropAfter: { bytes: 50_000, times: 1 } });
  const ac = new AbortController();
  await assert.rejects(
    resolveModel('org/tiny', {
      endpoint: hub.endpoint,
      cacheDir: cache,
      signal: ac.signal,
      onProgress: (p) => p.file === 'model.safetensors' && p.bytes > 0 && ac.abort(),
    }),
    { name: 'AbortError' },
  );
  assert.ok(blobsIn(cache).includes(`${sha256Hex(gpt2Files['model.safetensors'])}.incomplete`));
  const dir = await resolveModel('org/tiny', { endpoint: hub.endpoint, cacheDir: cache });
  assert.deepEqual(readFileSync(join(dir, 'model.safetensors')), gpt2Files['model.safetensors']);
});

test('progress lines for the CLI: one per file at most every interval, always the last', () => {
  const lines: string[] = [];
  const cb = progressLines((l) => lines.push(l), 60_000);
  const p = { file: 'model.safetensors', total: 54_000_000, bytesPerSec: 4_100_000, etaSec: 10 };
  cb({ ...p, bytes: 1_000_000 });
  cb({ ...p, bytes: 2_000_000 });
  cb({ ...p, bytes: 54_000_000, etaSec: 0 });
  assert.equal(lines.length, 2);
  assert.equal(lines[0], 'downloading model.safetensors  1.0 MB / 54.0 MB (1%)  4.1 MB/s  ETA 10s');
  assert.equal(lines[1], 'downloading model.safetensors  54.0 MB / 54.0 MB (100%)  done');
  assert.equal(
    formatProgress({ ...p, bytes: 0, etaSec: Infinity }),
    'model.safetensors  0 B / 54.0 MB (0%)  4.1 MB/s  ETA ?',
  );
});
