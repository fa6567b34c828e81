// The Completer on real tiny models (StarCoder-style FIM, Qwen-style FIM, plain GPT-2): the prompt
// cache reuses the previous request and gives exactly a cold run's tokens, a cancel stops within
// one token, a newer request supersedes the running one, and the time budget and max tokens end it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Completer } from '../../../src/engine/complete/completer';
import { Decoder, type GenerateOptions } from '../../../src/engine/generate/decoder';
import { writeGptBigCodeModel } from '../../../fixtures/tinyBigCode';
import { writeLlamaModel } from '../../../fixtures/tinyLlama';
import { writeGpt2Model } from '../../../fixtures/tinyModel';
import { loadTokenizer } from '../../../src/engine/tokenizer/tokenizer';
import { loadModel } from '../../../src/engine/models';
import {
  SafetensorsReader,
  writeSafetensors,
  type WritableTensor,
} from '../../../src/engine/formats/safetensors';

const tmp = mkdtempSync(join(tmpdir(), 'lt-completer-'));
const SMALL = { nLayer: 1, nHead: 2, nPositions: 128 };

async function completerFor(kind: 'bigcode' | 'qwen' | 'gpt2'): Promise<Completer> {
  const dir = join(tmp, kind);
  if (kind === 'bigcode') writeGptBigCodeModel(dir, { ...SMALL, nEmbd: 32 }, 1, { embeddingStd: 0.3 });
  else if (kind === 'qwen')
    writeLlamaModel(
      dir,
      { nLayer: 1, nHead: 2, nKvHead: 1, hidden: 32, intermediate: 64, maxPositions: 128 },
      1,
      // Untied, wider weights: a tied random model mostly repeats its last token (here <|fim_middle|>).
      { modelType: 'qwen2', embeddingStd: 0.3, tieEmbeddings: false, initStd: 0.2 },
    );
  else await writeGpt2Model(dir, { ...SMALL, nEmbd: 32 }, 1, { embeddingStd: 0.3 });
  const model = loadModel(dir);
  const decoder = await Decoder.fromModel(model, { threads: 1 });
  model.weights.close();
  return new Completer(decoder, await loadTokenizer(dir));
}

/**
 * A GPT-2 whose greedy choice is `tokenId` after any prompt: the final layer norm outputs a
 * constant (weight 0, bias along the token's embedding), and that embedding row is the longest, so
 * its dot product with itself beats every other row's (Cauchy-Schwarz). The stop a request meets is
 * then known in advance. Without token healing, which would constrain the first token instead.
 */
async function constantCompleter(tokenId: number): Promise<Completer> {
  const dir = join(tmp, `constant-${tokenId}`);
  await writeGpt2Model(dir, { ...SMALL, nEmbd: 32 }, 1, { embeddingStd: 0.3 });
  const file = join(dir, 'model.safetensors');
  const reader = SafetensorsReader.open(file);
  const tensors: Record<string, WritableTensor> = {};
  for (const name of reader.names())
    tensors[name] = { dtype: 'F32', shape: reader.info(name).shape, data: reader.readFloat32(name) };
  reader.close();
  const wte = tensors['transformer.wte.weight'];
  const C = wte.shape[1];
  const row = (wte.data as Float32Array).subarray(tokenId * C, (tokenId + 1) * C);
  for (let i = 0; i < C; i++) row[i] *= 4;
  (tensors['transformer.ln_f.weight'].data as Float32Array).fill(0);
  (tensors['transformer.ln_f.bias'].data as Float32Array).set(row);
  writeSafetensors(file, tensors, { format: 'pt' });
  const model = loadModel(dir);
  const decoder = await Decoder.fromModel(model, { threads: 1 });
  model.weights.close();
  return new Completer(decoder, await loadTokenizer(dir), { heal: false });
}

/** Counts the tokens the decoder generates and lets a test act on each. */
function spyTokens(
  c: Completer,
  onEach: (count: number) => void = () => {},
): { count: number; ids: number[] } {
  const seen = { count: 0, ids: [] as number[] };
  const generate = c.decoder.generate.bind(c.decoder);
  c.decoder.generate = (prompt: readonly number[], o: GenerateOptions = {}) => {
    seen.count = 0;
    seen.ids = [];
    return generate(prompt, {
      ...o,
      onToken: (id) => {
        seen.ids.push(id);
        onEach(++seen.count);
        o.onToken?.(id);
      },
    });
  };
  return seen;
}

const REQ = {
  prefix: 'def add(a, b):\n    return a + b\n\ndef mul(a, b):\n    return ',
  suffix: '\n\nprint(mul(2, 3))\n',
  languageId: 'python',
  multiline: 'multi' as const,
  maxTokens: 12,
  timeBudgetMs: 60_000,
};

test('FIM per family: the completer finds StarCoder and Qwen markers, and none in GPT-2', async () => {
  assert.equal((await completerFor('bigcode')).fim?.style, 'starcoder');
  assert.equal((await completerFor('qwen')).fim?.style, 'qwen');
  assert.equal((await completerFor('gpt2')).fim, null);
});

for (const kind of ['bigcode', 'qwen', 'gpt2'] as const) {
  test(`${kind}: the prompt cache reuses the previous request and gives exactly a cold run's tokens`, async () => {
    const warm = await completerFor(kind);
    const cold = await completerFor(kind);
    const warmIds = spyTokens(warm);
    const coldIds = spyTokens(cold);
    await warm.complete(REQ);
    // One more character typed, then one deleted: both reuse most of the prompt.
    for (const prefix of [REQ.prefix + 'a', REQ.prefix]) {
      const hit = await warm.complete({ ...REQ, prefix });
      cold.decoder.reset();
      const miss = await cold.complete({ ...REQ, prefix });
      assert.equal(miss.reusedTokens, 0);
      assert.ok(
        hit.reusedTokens > hit.promptTokens / 2,
        `${kind}: reused ${hit.reusedTokens} of ${hit.promptTokens}`,
      );
      assert.deepEqual(warmIds.ids, coldIds.ids, `${kind}: same tokens with and without the cache`);
      // The tied StarCoder-style fixture ends at once (it repeats <fim_middle>, an end token).
      if (kind !== 'bigcode') assert.ok(warmIds.ids.length >= 8, `${kind}: ${warmIds.ids.length} tokens`);
      assert.equal(hit.text, miss.text);
      assert.equal(hit.stop, miss.stop);
    }
  });
}

test('a cancel stops generation within one token', async () => {
  const c = await completerFor('gpt2');
  const controller = new AbortController();
  const seen = spyTokens(c, (n) => n === 3 && controller.abort());
  const r = await c.complete({ ...REQ, maxTokens: 40, multiline: 'multi' }, controller.signal);
  assert.equal(r.stop, 'cancelled');
  assert.equal(seen.count, 3, 'no token after the abort');
  assert.equal(r.text, '');
  const already = await c.complete(REQ, AbortSignal.abort());
  assert.equal(already.stop, 'cancelled');
});

test('a newer request supersedes the running one, which stops before its next token', async () => {
  const c = await completerFor('gpt2');
  let second: Promise<unknown> | undefined;
  const seen = spyTokens(c, (n) => {
    if (n === 2 && !second)
      second = c.complete({ ...REQ, prefix: 'x = ', multiline: 'single', maxTokens: 3 });
  });
  const first = await c.complete({ ...REQ, maxTokens: 40 });
  assert.equal(first.stop, 'superseded');
  assert.equal(first.text, '');
  const next = (await second) as { stop: string };
  assert.notEqual(next.stop, 'superseded');
  assert.ok(seen.count <= 3);
});

test('max tokens, time budget and the single-line rule end a completion; latency is measured', async () => {
  // A model that always says " x" never ends a line or a block: only max tokens stops it.
  const xs = await constantCompleter(2124);
  const seen = spyTokens(xs);
  const r = await xs.complete({ ...REQ, maxTokens: 5, multiline: 'multi' });
  assert.equal(r.stop, 'max_tokens');
  assert.equal(seen.count, 5);
  assert.equal(r.text, 'x x x x x', 'the space before the cursor is not doubled');
  assert.ok(r.latencyMs >= r.firstTokenMs && r.firstTokenMs > 0);

  const timed = await xs.complete({ ...REQ, maxTokens: 100, timeBudgetMs: 0, multiline: 'multi' });
  assert.equal(timed.stop, 'time');
  assert.ok(seen.count <= 1, `${seen.count} tokens after a zero budget`);

  // A model that always says a newline ends a single-line completion at its first token.
  const newlines = await constantCompleter(198);
  const lines = spyTokens(newlines);
  const single = await newlines.complete({ ...REQ, maxTokens: 100, multiline: 'single' });
  assert.equal(single.stop, 'line');
  assert.deepEqual(lines.ids, [198], 'stopped at the newline');
  assert.equal(single.text, '');
  // In multi-line mode the same newlines are blank lines, which never stop a block.
  const multi = await newlines.complete({ ...REQ, maxTokens: 6, multiline: 'multi' });
  assert.equal(multi.stop, 'max_tokens');
  assert.equal(lines.count, 6);
});

test('an empty document gives nothing to complete from (prefix-only model)', async () => {
  const c = await completerFor('gpt2');
  const r = await c.complete({ prefix: '', suffix: 'x', languageId: 'python' });
  assert.equal(r.stop, 'empty');
  assert.equal(r.text, '');
});
