import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Decoder } from '../../../src/engine/generate/decoder';
import { logProbability, sampleToken } from '../../../src/engine/generate/sampling';
import { Rng } from '../../../src/engine/rng';
import { gpt2Fixture, GPT2_SHAPE, maxAbsDiff, randomAdapter, randomIds } from './fixtures';

const V = GPT2_SHAPE.vocabSize;

test('decoding with the KV cache equals decoding without it: same greedy tokens, logits within 1e-4', async () => {
  const { model } = await gpt2Fixture();
  const decoder = await Decoder.fromModel(model, { threads: 1 });
  const prompt = randomIds(9, V, 1);
  const withCache: Float32Array[] = [];
  const without: Float32Array[] = [];
  const a = await decoder.generate(prompt, { maxTokens: 16, onLogits: (l) => withCache.push(l.slice()) });
  const b = await decoder.generate(prompt, {
    maxTokens: 16,
    kvCache: false,
    onLogits: (l) => without.push(l.slice()),
  });
  assert.equal(a.tokens.length, 16);
  assert.equal(a.stop, 'max_tokens');
  assert.deepEqual(a.tokens, b.tokens);
  assert.equal(withCache.length, without.length);
  const diff = Math.max(...withCache.map((l, i) => maxAbsDiff(l, without[i])));
  assert.ok(diff < 1e-4, `cached vs recomputed logits: ${diff}`);
});

test('the prompt cache reuses the longest common prefix and gives exactly the tokens of a cold run', async () => {
  const { model } = await gpt2Fixture();
  const adapter = randomAdapter(model, { r: 2, alpha: 4, targets: ['c_attn'], dropout: 0, rslora: false });
  const warm = await Decoder.fromModel(model, { adapter, threads: 1 });
  const cold = await Decoder.fromModel(model, { adapter, threads: 1 });
  const first = randomIds(20, V, 2);
  await warm.generate(first, { maxTokens: 5 });
  // The editor's next request: the same text plus a few more tokens, then one that diverges earlier.
  const requests = [
    [...first, 11, 12],
    [...first.slice(0, 12), 40, 41, 42],
    [...first.slice(0, 12), 40, 41, 42], // identical prompt: all but its last token come from the cache
  ];
  const expectedReuse = [20, 12, 14];
  for (const [i, prompt] of requests.entries()) {
    const hit = await warm.generate(prompt, { maxTokens: 8 });
    cold.reset();
    const miss = await cold.generate(prompt, { maxTokens: 8 });
    assert.equal(miss.reusedTokens, 0);
    assert.equal(hit.reusedTokens, expectedReuse[i], `request ${i} reuses the common prefix`);
    assert.deepEqual(hit.tokens, miss.tokens, `request ${i}: cached prefix gives the cold run's tokens`);
  }
});

test('an abort between tokens stops generation within one token; EOS and the context length stop it too', async () => {
  const { model } = await gpt2Fixture();
  const decoder = await Decoder.fromModel(model, { threads: 1 });
  const prompt = randomIds(5, V, 3);
  const controller = new AbortController();
  const seen: number[] = [];
  const r = await decoder.generate(prompt, {
    maxTokens: 30,
    signal: controller.signal,
    onToken: (id) => {
      seen.push(id);
      if (seen.length === 3) controller.abort();
    },
  });
  assert.equal(r.stop, 'aborted');
  assert.deepEqual(r.tokens, seen);
  assert.equal(r.tokens.length, 3);

  const full = await decoder.generate(prompt, { maxTokens: 10 });
  const eos = full.tokens[4];
  const stopped = await decoder.generate(prompt, { maxTokens: 10, stopIds: [eos] });
  assert.equal(stopped.stop, 'eos');
  assert.deepEqual(stopped.tokens, full.tokens.slice(0, full.tokens.indexOf(eos)));

  const long = await decoder.generate(randomIds(GPT2_SHAPE.nPositions - 3, V, 4), { maxTokens: 10 });
  assert.equal(long.stop, 'context');
  assert.equal(
    long.tokens.length,
    4,
    'the model reads at most its context: the last token is chosen from 64',
  );
});

test('sampling: a seed reproduces a run; a tiny top-p is greedy; temperature spreads the choices', async () => {
  const { model } = await gpt2Fixture();
  const decoder = await Decoder.fromModel(model, { threads: 1 });
  const prompt = randomIds(6, V, 5);
  const greedy = await decoder.generate(prompt, { maxTokens: 12 });
  const s1 = await decoder.generate(prompt, { maxTokens: 12, temperature: 1.5, seed: 7 });
  const s2 = await decoder.generate(prompt, { maxTokens: 12, temperature: 1.5, seed: 7 });
  assert.deepEqual(s1.tokens, s2.tokens);
  assert.notDeepEqual(s1.tokens, greedy.tokens);
  const nucleus = await decoder.generate(prompt, { maxTokens: 12, temperature: 1.5, topP: 1e-6, seed: 9 });
  assert.deepEqual(nucleus.tokens, greedy.tokens);

  // top-p keeps the smallest set reaching p: with probabilities 0.5, 0.3, 0.2 and p = 0.7, never the third.
  const logits = Float32Array.from([Math.log(0.5), Math.log(0.3), Math.log(0.2)]);
  const rng = new Rng(1);
  const counts = [0, 0, 0];
  for (let i = 0; i < 2000; i++) counts[sampleToken(logits, { temperature: 1, topP: 0.7 }, rng)]++;
  assert.equal(counts[2], 0);
  assert.ok(Math.abs(counts[0] / 2000 - 0.625) < 0.05, `0.5/0.8 of draws are token 0 (${counts[0]})`);
});

/** Nucleus sampling as its definition reads: every token sorted by probability (ties by id). */
function referenceDraw(logits: Float32Array, temperature: number, topP: number, rng: Rng): number {
  const max = Math.max(...logits);
  const probs = Array.from(logits, (l) => Math.exp((l - max) / temperature));
  const sum = probs.reduce((a, b) => a + b, 0);
  const order = probs.map((_, i) => i).sort((a, b) => probs[b] - probs[a] || a - b);
  const kept: number[] = [];
  let mass = 0;
  for (const i of order) {
    if (kept.length > 0 && mass >= topP * sum) break;
    kept.push(i);
    mass += probs[i];
  }
  let u = rng.next() * mass;
  for (const i of kept) if ((u -= probs[i]) < 0) return i;
  return kept[kept.length - 1];
}

test('sampling: top-p draws the same tokens as a sort of the whole vocabulary, on flat, peaked and tied logits', () => {
  const V = 2048;
  const gen = new Rng(3);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - gen.next())) * Math.cos(2 * Math.PI * gen.next());
  const shapes: Record<string, Float32Array> = {
    flat: Float32Array.from({ length: V }, () => gen.next()),
    peaked: Float32Array.from({ length: V }, () => 6 * gauss()),
    tied: Float32Array.from({ length: V }, () => Math.round(gen.next() * 4)),
    oneHot: Float32Array.from({ length: V }, (_, i) => (i === 17 ? 50 : 0)),
  };
  let differing = 0;
  for (const [name, logits] of Object.entries(shapes))
    for (const [temperature, topP] of [
      [1, 0.9],
      [0.7, 0.5],
      [2, 0.99],
      [1, 1e-9],
      [0.3, 0.95],
    ]) {
      const [ours, theirs] = [new Rng(11), new Rng(11)];
      const drawn = new Set<number>();
      for (let i = 0; i < 100; i++) {
        const a = sampleToken(logits, { temperature, topP }, ours);
        const b = referenceDraw(logits, temperature, topP, theirs);
        if (a !== b) differing++;
        drawn.add(a);
      }
      if (name === 'flat' && topP >= 0.9)
        assert.ok(drawn.size > 50, `${name}, top-p ${topP}: ${drawn.size} tokens drawn`);
      if (topP < 1e-6 || name === 'oneHot')
        assert.equal(drawn.size, 1, `${name}, top-p ${topP}: the top token only`);
    }
  assert.equal(differing, 0, 'every draw matches the full sort');
});

test('logProbability: log-softmax at an id, stable where exp of the logits overflows', () => {
  const expected = -Math.log(1 + Math.exp(-1) + Math.exp(-2));
  assert.ok(Math.abs(logProbability([1000, 1001, 1002], 2) - expected) < 1e-12);
  assert.ok(
    Math.abs(logProbability([-3, 0.5, 2], 0) - (-3 - Math.log(Math.exp(-3) + Math.exp(0.5) + Math.exp(2)))) <
      1e-12,
  );
});
