import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { cli } from './capture';
import { writeGpt2Model } from '../../fixtures/tinyModel';
import { FakeHub } from '../../fixtures/hubFake';
import { runReference, torchSkip } from '../helpers/torchReference';

const SHAPE = { nLayer: 1, nHead: 2, nEmbd: 16, nPositions: 32 };

let modelDir = '';
const tmp = mkdtempSync(join(tmpdir(), 'lt-cli-'));
test.before(async () => {
  modelDir = join(tmp, 'model');
  await writeGpt2Model(modelDir, SHAPE, 1);
});

function expectUserError(r: { code: number; out: string[]; err: string[] }, pattern: RegExp) {
  assert.equal(r.code, 2);
  // Warnings may come first; the error is the last line, and a single line.
  const last = r.err.at(-1) ?? '';
  assert.match(last, /^localtune: /);
  assert.match(last, pattern);
  for (const line of r.err) assert.doesNotMatch(line, /\n|^\s+at /, 'no stack trace');
}

test('missing config.json: one line, exit code 2', async () => {
  const dir = join(tmp, 'empty-model');
  mkdirSync(dir, { recursive: true });
  expectUserError(await cli('score', '--model', dir, '--ids', '1,2'), /config\.json: missing/);
});

test('malformed config.json names the file', async () => {
  const dir = join(tmp, 'bad-json');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), '{"model_type": "gpt2",');
  expectUserError(
    await cli('score', '--model', dir, '--ids', '1,2'),
    /bad-json\/config\.json: not valid JSON/,
  );
});

test('unsupported model_type lists the supported ones', async () => {
  const dir = join(tmp, 'bert');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert' }));
  expectUserError(
    await cli('score', '--model', dir, '--ids', '1,2'),
    /model_type "bert" is not supported; supported: gpt2/,
  );
});

test('empty training data is refused', async () => {
  const empty = join(tmp, 'empty.txt');
  writeFileSync(empty, '');
  expectUserError(
    await cli('train', '--model', modelDir, '--data', empty, '--out', join(tmp, 'r0')),
    /no text found|empty/,
  );
});

test('a sequence longer than the context, or shorter than 2 tokens, is refused', async () => {
  const ids = Array.from({ length: 40 }, (_, i) => i).join(',');
  expectUserError(
    await cli('score', '--model', modelDir, '--ids', ids),
    /longer than the model's context \(32\)/,
  );
  const text = join(tmp, 'some.txt');
  writeFileSync(text, 'print("hello world")\n'.repeat(200));
  expectUserError(
    await cli('train', '--model', modelDir, '--data', text, '--seq-len', '64'),
    /--seq-len 64 is longer than the model's context \(32/,
  );
  expectUserError(
    await cli('train', '--model', modelDir, '--data', text, '--seq-len', '1'),
    /--seq-len must be a whole number of at least 2 tokens \(got 1\)/,
  );
});

test('unknown flags and commands are one-line errors', async () => {
  expectUserError(await cli('train', '--modle', modelDir), /Unknown option '--modle'/);
  expectUserError(await cli('fly'), /unknown command "fly"/);
});

test(
  "score --json prints ids and n-1 log-probabilities, PyTorch's to 1e-4",
  { skip: torchSkip() },
  async () => {
    const r = await cli('score', '--model', modelDir, '--text', 'Hello world, hello', '--json');
    assert.equal(r.code, 0);
    const parsed = JSON.parse(r.out[0]) as { ids: number[]; logprobs: number[] };
    assert.deepEqual(parsed.ids.slice(0, 2), [15496, 995]);
    assert.equal(parsed.logprobs.length, parsed.ids.length - 1);
    // The transcription of transformers' GPT-2 (test/engine/models/hf_reference.py) on the same ids.
    const reference = runReference<number[]>(join(__dirname, '../engine/models/hf_reference.py'), [
      modelDir,
      JSON.stringify(parsed.ids),
    ]);
    parsed.logprobs.forEach((lp, i) =>
      assert.ok(Math.abs(lp - reference[i]) <= 1e-4, `logprob ${i}: ${lp}, PyTorch ${reference[i]}`),
    );
  },
);

test('train --json streams step events, writes metrics.jsonl and a PEFT adapter (bundled CLI, as users run it)', async () => {
  const text = join(tmp, 'corpus.txt');
  writeFileSync(text, 'def add(a, b):\n    return a + b\n\n'.repeat(150));
  const out = join(tmp, 'run');
  const bundled = join(__dirname, '..', '..', 'dist', 'cli.js');
  assert.ok(existsSync(bundled), 'npm test builds dist/cli.js first');
  const r = spawnSync(
    process.execPath,
    [
      bundled,
      'train',
      '--model',
      modelDir,
      '--data',
      text,
      '--steps',
      '3',
      '--seq-len',
      '16',
      '--batch-tokens',
      '64',
      '--out',
      out,
      '--json',
    ],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const events = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    events.filter((e) => e.type === 'step').map((e) => e.step),
    [1, 2, 3],
  );
  assert.equal(events.at(-1).type, 'done');
  // The three steps, and the evaluation at the last step on the held-out tail of the text.
  const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n');
  assert.deepEqual(
    metrics.map((l) => (JSON.parse(l) as { type: string }).type),
    ['step', 'step', 'step', 'eval'],
  );
  assert.ok(existsSync(join(out, 'adapter', 'adapter_model.safetensors')));
  assert.ok(existsSync(join(out, 'adapter', 'adapter_config.json')));
});

test('a dataset folder built by `localtune dataset build` trains with --data, with evaluation on its validation split', async () => {
  const ws = join(tmp, 'workspace');
  mkdirSync(join(ws, 'src'), { recursive: true });
  for (let i = 0; i < 12; i++)
    writeFileSync(
      join(ws, 'src', `f${i}.py`),
      `def f${i}(x):\n    return x * ${i} + ${i * 7}\n\n\nprint(f${i}(${i}))\n`.repeat(6),
    );
  const ds = join(tmp, 'ds');
  const built = await cli(
    'dataset',
    'build',
    '--from',
    ws,
    '--model',
    modelDir,
    '--out',
    ds,
    '--val-fraction',
    '0.25',
    '--fim-rate',
    '0',
  );
  assert.equal(built.code, 0, built.err.join('\n'));
  const run = join(tmp, 'run-ds');
  const r = await cli(
    'train',
    '--model',
    modelDir,
    '--data',
    ds,
    '--steps',
    '2',
    '--seq-len',
    '16',
    '--batch-tokens',
    '32',
    '--eval-every',
    '2',
    '--out',
    run,
    '--json',
  );
  assert.equal(r.code, 0, r.err.join('\n'));
  const events = r.out.map((l) => JSON.parse(l));
  const evalEvent = events.find((e) => e.type === 'eval');
  assert.ok(evalEvent && Number.isFinite(evalEvent.evalLoss), 'evaluated on the validation split');
});

test('score --model org/name downloads from the hub (a real HTTP server on 127.0.0.1) into the HF cache, with progress', async (t) => {
  const files: Record<string, Uint8Array> = {};
  for (const f of readdirSync(modelDir)) files[f] = readFileSync(join(modelDir, f));
  const commit = 'c'.repeat(40);
  const hub = await FakeHub.start([
    { repo: 'org/tiny-cli', commits: { [commit]: files }, refs: { main: commit } },
  ]);
  t.after(() => hub.close());
  const cache = join(tmp, 'hf-cache');
  const saved = { endpoint: process.env.HF_ENDPOINT, cache: process.env.HF_HUB_CACHE };
  process.env.HF_ENDPOINT = hub.endpoint;
  process.env.HF_HUB_CACHE = cache;
  t.after(() => {
    for (const [k, v] of [
      ['HF_ENDPOINT', saved.endpoint],
      ['HF_HUB_CACHE', saved.cache],
    ] as const)
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  });
  const r = await cli('score', '--model', 'org/tiny-cli', '--ids', '1,2,3', '--json');
  assert.equal(r.code, 0, r.err.join('\n'));
  assert.ok(
    r.err.some((l) => l.includes('model.safetensors')),
    'download progress is printed',
  );
  const local = await cli('score', '--model', modelDir, '--ids', '1,2,3', '--json');
  assert.deepEqual(
    JSON.parse(r.out[0]),
    JSON.parse(local.out[0]),
    'the downloaded model scores like the original',
  );
  assert.ok(existsSync(join(cache, 'models--org--tiny-cli', 'snapshots', commit, 'model.safetensors')));

  // Training from a hub id records the id, not the cache path, as the adapter's base model.
  const corpus = join(tmp, 'hub-corpus.txt');
  writeFileSync(corpus, 'x = 1\ny = 2\n'.repeat(100));
  const out = join(tmp, 'run-hub');
  const trained = await cli(
    'train',
    '--model',
    'org/tiny-cli',
    '--data',
    corpus,
    '--steps',
    '1',
    '--seq-len',
    '16',
    '--batch-tokens',
    '32',
    '--out',
    out,
  );
  assert.equal(trained.code, 0, trained.err.join('\n'));
  assert.equal(
    JSON.parse(readFileSync(join(out, 'adapter', 'adapter_config.json'), 'utf8')).base_model_name_or_path,
    'org/tiny-cli',
  );
});
