// Token healing with the real GPT-2 tokenizer and a real decoder: the prompt's last token is backed
// off, the first generated token must spell it again, and the completion starts after it — no
// doubled space after `const best = `, and a suggestion after an indentation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Completer } from '../../../src/engine/complete/completer';
import { stripTail, TokenHealer } from '../../../src/engine/complete/heal';
import { Decoder, type GenerateOptions } from '../../../src/engine/generate/decoder';
import { loadModel } from '../../../src/engine/models';
import { loadTokenizer, type Tokenizer } from '../../../src/engine/tokenizer/tokenizer';
import { writeGpt2Model } from '../../../fixtures/tinyModel';

const dir = join(mkdtempSync(join(tmpdir(), 'lt-heal-')), 'gpt2');
const ready = (async () => {
  await writeGpt2Model(dir, { nLayer: 1, nHead: 2, nEmbd: 32, nPositions: 128 }, 3, { embeddingStd: 0.3 });
  return loadTokenizer(dir);
})();

async function completer(heal: boolean): Promise<{ c: Completer; prompts: number[][]; firsts: number[] }> {
  const model = loadModel(dir);
  const decoder = await Decoder.fromModel(model, { threads: 1 });
  model.weights.close();
  const c = new Completer(decoder, await ready, { heal });
  const seen = { c, prompts: [] as number[][], firsts: [] as number[] };
  const generate = decoder.generate.bind(decoder);
  decoder.generate = (prompt: readonly number[], o: GenerateOptions = {}) => {
    seen.prompts.push([...prompt]);
    let first = true;
    return generate(prompt, {
      ...o,
      onToken: (id) => {
        if (first) seen.firsts.push(id);
        first = false;
        o.onToken?.(id);
      },
    });
  };
  return seen;
}

const text = (t: Tokenizer, id: number) => t.decode([id]);

test('the healer backs off a trailing space token and allows only tokens that spell it again', async () => {
  const t = await ready;
  const h = new TokenHealer(t);
  const ids = t.encode('const best = ');
  const r = h.backOff(ids, ids.length - 1)!;
  assert.equal(r.tail, ' ');
  assert.deepEqual(r.ids, t.encode('const best ='));
  const logits = new Float32Array(t.vocabSize);
  h.constrain(logits, ' ');
  const ifId = t.encode(' if');
  assert.equal(ifId.length, 1);
  assert.equal(logits[ifId[0]], 0, '" if" is allowed');
  assert.equal(logits[t.encode('if')[0]], -Infinity, '"if" without the space is not');
  for (let id = 0; id < t.vocabSize; id++)
    if (logits[id] === 0)
      assert.ok(text(t, id).startsWith(' '), `${JSON.stringify(text(t, id))} spells the space`);
  // Inside a word: the tail " be" allows " best" and " b" (a prefix, with the rest to spell next).
  const word = t.encode('const be');
  const w = h.backOff(word, word.length - 1)!;
  assert.equal(w.tail, ' be');
  const l2 = new Float32Array(t.vocabSize);
  h.constrain(l2, w.tail);
  assert.equal(l2[t.encode(' best')[0]], 0);
  assert.equal(l2[t.encode(' b')[0]], 0);
  assert.equal(l2[t.encode(' if')[0]], -Infinity);
  assert.equal(h.advance(' be', t.encode(' b')[0]), 'e');
  assert.equal(h.advance(' be', t.encode(' best')[0]), '');
  assert.equal(stripTail(' best', ' be'), 'st');
});

test('the healer allows exactly the tokens a scan of the whole vocabulary allows, for any tail', async () => {
  const t = await ready;
  const h = new TokenHealer(t);
  const texts = h.prepare();
  const tails = [
    ' ',
    ' be',
    'const',
    '  ',
    '    ',
    '\n',
    '\n\n',
    'é',
    ' qux',
    '(',
    '}\n',
    'z',
    '\t',
    ' 1',
    '😀',
  ];
  for (const tail of tails) {
    const logits = Float32Array.from({ length: t.vocabSize }, (_, id) => (id % 97) / 7);
    h.constrain(logits, tail);
    const agree = texts.map((s) => s !== '' && (s.startsWith(tail) || tail.startsWith(s)));
    const anyAgree = agree.some(Boolean);
    for (let id = 0; id < t.vocabSize; id++) {
      const expected = agree[id] || !anyAgree ? (id % 97) / 7 : -Infinity;
      assert.equal(
        logits[id],
        Math.fround(expected),
        `tail ${JSON.stringify(tail)}, token ${id} ${JSON.stringify(texts[id])}`,
      );
    }
  }
});

test('completing after `const best = `: the prompt ends before the space, the first token starts with one, the text does not', async () => {
  const healed = await completer(true);
  const t = await ready;
  const request = {
    prefix: 'function max(a, b) {\n  const best = ',
    suffix: '\n}\n',
    languageId: 'javascript',
    maxTokens: 6,
    timeBudgetMs: 60_000,
  };
  const r = await healed.c.complete(request);
  assert.deepEqual(healed.prompts[0], t.encode('function max(a, b) {\n  const best ='));
  assert.ok(
    text(t, healed.firsts[0]).startsWith(' '),
    `first token ${JSON.stringify(text(t, healed.firsts[0]))}`,
  );
  assert.ok(!/^\s/.test(r.text), `the suggestion ${JSON.stringify(r.text)} starts without a space`);
  // Without healing the prompt keeps the space token (what the model never saw before a word).
  const plain = await completer(false);
  await plain.c.complete(request);
  assert.deepEqual(plain.prompts[0], t.encode(request.prefix));
});

test('completing after an indentation: the last space is spelled by the first token, the rest follows', async () => {
  const { c, prompts, firsts } = await completer(true);
  const t = await ready;
  const prefix = 'def add(a, b):\n    ';
  const r = await c.complete({
    prefix,
    suffix: '',
    languageId: 'python',
    maxTokens: 4,
    timeBudgetMs: 60_000,
  });
  assert.deepEqual(prompts[0], t.encode(prefix).slice(0, -1));
  assert.ok(text(t, firsts[0]).startsWith(' '));
  assert.equal(r.stop === 'superseded' || r.stop === 'cancelled', false);
});
