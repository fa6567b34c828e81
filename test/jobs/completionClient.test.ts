// The completion worker forked for real (its TypeScript source through tsx) on a tiny Qwen-style
// FIM model: results carry the model, a request after one more keystroke reuses the previous
// prompt and gives exactly the cold run's text, a superseded or cancelled request resolves null,
// health answers, a bad model folder fails start with the worker's message, and a killed worker is
// restarted once and then reported. Also prints the latency of a single-line completion (hit/miss).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLlamaModel } from '../../fixtures/tinyLlama';
import { CompletionClient, type CompletionRequest } from '../../src/jobs/completionClient';

const WORKER = join(__dirname, '../../src/jobs/workers/complete.ts');
const tmp = mkdtempSync(join(tmpdir(), 'lt-complete-'));
const modelDir = join(tmp, 'qwen-tiny');

test.before(() => {
  // Untied, wider weights: the random model writes many tokens instead of repeating <|fim_middle|>.
  writeLlamaModel(
    modelDir,
    { nLayer: 2, nHead: 2, nKvHead: 1, hidden: 32, intermediate: 64, maxPositions: 128 },
    1,
    { modelType: 'qwen2', embeddingStd: 0.3, tieEmbeddings: false, initStd: 0.2 },
  );
});

function start(logs: string[] = []): Promise<CompletionClient> {
  return CompletionClient.start({
    workerPath: WORKER,
    model: { modelDir },
    dtype: 'fp32',
    onLog: (l) => logs.push(l),
    env: { OMP_NUM_THREADS: '1' },
  });
}

const REQ: CompletionRequest = {
  prefix: 'def add(a, b):\n    return a + b\n\ndef mul(a, b):\n    return ',
  suffix: '\n\nprint(mul(2, 3))\n',
  languageId: 'python',
  multiline: 'multi',
  maxTokens: 16,
  timeBudgetMs: 60_000,
};

test('a result names the model; one more keystroke reuses the prompt and gives the cold run’s text', async (t) => {
  const logs: string[] = [];
  const warm = await start(logs);
  const cold = await start();
  t.after(() => {
    warm.dispose();
    cold.dispose();
  });
  assert.ok(
    logs.some((l) => l.includes('FIM: qwen')),
    logs.join('\n'),
  );
  const first = await warm.complete(REQ);
  assert.ok(first);
  assert.equal(first.model, 'qwen-tiny');
  assert.equal(first.reusedTokens, 0);
  assert.ok(first.text.length > 0, JSON.stringify(first));
  for (const prefix of [REQ.prefix + 'm', REQ.prefix + 'mu']) {
    const hit = await warm.complete({ ...REQ, prefix });
    const miss = await cold.complete({ ...REQ, prefix: 'x' }).then(() => cold.complete({ ...REQ, prefix }));
    assert.ok(hit && miss);
    assert.ok(hit.reusedTokens > 20, `reused ${hit.reusedTokens} of ${hit.promptTokens}`);
    assert.ok(miss.reusedTokens <= 1, `cold run reused ${miss.reusedTokens}`);
    assert.equal(hit.text, miss.text);
    assert.equal(hit.stop, miss.stop);
  }
});

test('a superseded request and a cancelled one resolve null; health answers while generating', async (t) => {
  const client = await start();
  t.after(() => client.dispose());
  const long = { ...REQ, maxTokens: 100 };
  const first = client.complete(long);
  const second = client.complete({ ...REQ, prefix: REQ.prefix + 'a' });
  assert.equal(await first, null);
  assert.ok(await second);

  const controller = new AbortController();
  const cancelled = client.complete(long, controller.signal);
  const health = client.health(5000);
  setTimeout(() => controller.abort(), 5);
  assert.equal(await cancelled, null);
  assert.equal(await health, true);
  assert.equal(await client.complete(long, AbortSignal.abort()), null);
  // The worker is free again at once.
  const after = await client.complete({ ...REQ, maxTokens: 2 });
  assert.ok(after);
});

test('a bad model folder fails start with the worker’s message', async () => {
  await assert.rejects(
    CompletionClient.start({ workerPath: WORKER, model: { modelDir: join(tmp, 'missing') }, dtype: 'fp32' }),
    /missing/,
  );
});

test('a killed worker is restarted once; killed again, it is reported through onDidCrash', async (t) => {
  const client = await start();
  t.after(() => client.dispose());
  const crashes: string[] = [];
  client.onDidCrash((cause) => crashes.push(cause));
  const pid = client.pid!;
  const inFlight = client.complete({ ...REQ, maxTokens: 100 });
  process.kill(pid, 'SIGKILL');
  await assert.rejects(inFlight, /killed/);
  const again = await client.complete(REQ); // waits for the restart
  assert.ok(again, 'the restarted worker serves');
  assert.notEqual(client.pid, pid);
  assert.deepEqual(crashes, []);
  assert.equal(await client.health(), true);

  const reported = new Promise<string>((resolve) => client.onDidCrash(resolve));
  process.kill(client.pid!, 'SIGKILL');
  assert.match(await reported, /killed/);
  assert.equal(crashes.length, 1);
  await assert.rejects(client.complete(REQ), /not running/);
  assert.equal(await client.health(), false);
});

test('latency of a single-line completion through the worker: prompt-cache hit vs miss', async (t) => {
  const client = await start();
  t.after(() => client.dispose());
  const line: CompletionRequest = { ...REQ, multiline: 'single', maxTokens: 16 };
  const hits: number[][] = [];
  const misses: number[][] = [];
  const typed = 'mul_result_value';
  for (let i = 1; i <= typed.length; i++) {
    // A miss: another document in between; a hit: the same document with one more character.
    if (i % 2) {
      await client.complete({ ...line, prefix: `# other ${i}\n` + REQ.prefix });
      const r = await client.complete({ ...line, prefix: REQ.prefix + typed.slice(0, i) });
      assert.ok(r);
      misses.push([r.latencyMs, r.firstTokenMs]);
    } else {
      const r = await client.complete({ ...line, prefix: REQ.prefix + typed.slice(0, i) });
      assert.ok(r && r.reusedTokens > 0);
      hits.push([r.latencyMs, r.firstTokenMs]);
    }
  }
  const p50 = (rows: number[][], k: number) => rows.map((r) => r[k]).sort((a, b) => a - b)[rows.length >> 1];
  const show = (rows: number[][]) =>
    `${p50(rows, 0).toFixed(1)} ms (first token ${p50(rows, 1).toFixed(1)} ms)`;
  t.diagnostic(`single-line completion, tiny model, p50: cache hit ${show(hits)}, miss ${show(misses)}`);
});
