import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findFimTokens } from '../../src/engine/tokenizer/fimTokens';
import { FIM_PIECE_CHARS, fimSample, unFim } from '../../src/data/fim';
import { Rng } from '../../src/engine/rng';
import { codeFile, FIM_QWEN, FIM_STARCODER, gpt2Fixture } from './helpers';

const DOCS = [
  codeFile(1, 5),
  'def f(x):\n    return "é😀中文"  # emoji 😀 and CJK\n',
  'a',
  '😀😀😀😀',
  '\n\n  \n',
];

for (const [family, extra, marker] of [
  ['StarCoder', FIM_STARCODER, '<fim_prefix>'],
  ['Qwen2.5-Coder', FIM_QWEN, '<|fim_prefix|>'],
] as const) {
  test(`FIM (${family} tokens): decoding and reordering a sample restores the document exactly, PSM and SPM`, async () => {
    const { tokenizer } = await gpt2Fixture([...extra]);
    const fim = findFimTokens(tokenizer);
    assert.ok(fim);
    assert.equal(fim.prefix, tokenizer.tokenId(marker));
    for (const spmRate of [0, 1]) {
      for (const [d, doc] of DOCS.entries()) {
        for (let seed = 0; seed < 20; seed++) {
          const sample = fimSample(doc, fim, { fimRate: 1, spmRate }, new Rng(seed).fork(d), tokenizer);
          assert.equal(sample.length, 1);
          const seg = sample[0];
          assert.ok('ids' in seg && seg.loss);
          assert.equal(seg.ids[0], fim.prefix);
          // SPM starts <prefix><suffix>; PSM does too only when the prefix is empty (then both read the same)
          if (spmRate === 1) assert.equal(seg.ids[1], fim.suffix);
          assert.equal(seg.ids.filter((id) => id === fim.middle).length, 1);
          assert.equal(unFim(seg.ids, fim, tokenizer), doc, `doc ${d} seed ${seed} spm ${spmRate}`);
        }
      }
    }
  });
}

test('a long document is rearranged piece by piece at line ends, each piece restoring its lines exactly', async () => {
  const { tokenizer } = await gpt2Fixture(FIM_STARCODER);
  const fim = findFimTokens(tokenizer)!;
  const doc = codeFile(7, 200) + 'x'.repeat(FIM_PIECE_CHARS * 2) + '\n' + codeFile(8, 50);
  assert.ok(doc.length > FIM_PIECE_CHARS * 6);
  for (let seed = 0; seed < 10; seed++) {
    const sample = fimSample(doc, fim, { fimRate: 0.5, spmRate: 0.5 }, new Rng(seed), tokenizer);
    const parts = sample.map((seg) => ('ids' in seg ? unFim(seg.ids, fim, tokenizer)! : seg.text));
    assert.equal(parts.join(''), doc, `seed ${seed}`);
    const rearranged = parts.filter((_, i) => 'ids' in sample[i]);
    assert.ok(rearranged.length >= 2, `seed ${seed}: ${rearranged.length} pieces rearranged`);
    for (const part of rearranged) {
      // whole lines, and none longer than a piece unless it is one line too long on its own
      assert.ok(part.endsWith('\n') || doc.endsWith(part), `seed ${seed}: a piece ends mid-line`);
      assert.ok(
        part.length <= FIM_PIECE_CHARS || !part.slice(0, -1).includes('\n'),
        `seed ${seed}: ${part.length} chars`,
      );
    }
    // runs of plain pieces are one text segment
    for (let i = 1; i < sample.length; i++) assert.ok('ids' in sample[i] || 'ids' in sample[i - 1]);
  }
});

test('FIM rate: about fimRate of documents are rearranged, deterministically per seed', async () => {
  const { tokenizer } = await gpt2Fixture(FIM_STARCODER);
  const fim = findFimTokens(tokenizer)!;
  const run = (seed: number) =>
    Array.from(
      { length: 400 },
      (_, i) =>
        'ids' in
        fimSample('x = 1\n', fim, { fimRate: 0.5, spmRate: 0.5 }, new Rng(seed).fork(i), tokenizer)[0],
    );
  const a = run(1);
  const n = a.filter(Boolean).length;
  assert.ok(n > 150 && n < 250, `${n} of 400`);
  assert.deepEqual(run(1), a);
  assert.notDeepEqual(run(2), a);
  const none = Array.from(
    { length: 50 },
    (_, i) => fimSample('x', fim, { fimRate: 0, spmRate: 0 }, new Rng(i), tokenizer)[0],
  );
  assert.ok(none.every((s) => 'text' in s));
});

test('a model without FIM tokens gets plain causal text', async () => {
  const { tokenizer } = await gpt2Fixture();
  assert.equal(findFimTokens(tokenizer), null);
  assert.deepEqual(fimSample('code', null, { fimRate: 1, spmRate: 0 }, new Rng(0), tokenizer), [
    { text: 'code', loss: true },
  ]);
});
