// A split's stream back into JSONL rows, on a real Llama tokenizer (its BOS is a prefix the
// engines add again): plain documents become text without the BOS and the EOS; a chat document,
// trained on the reply only, becomes segments whose labels carry our loss weights exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTokenizer } from '../../../src/engine/tokenizer/tokenizer';
import { exportSplit } from '../../../src/jobs/handoff/documents';
import { writeLlamaModel, TINY_LLAMA } from '../../../fixtures/tinyLlama';

test('plain documents as text, a masked chat document as labelled segments, every id carried', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'lt-docs-')), 'llama');
  writeLlamaModel(dir, TINY_LLAMA, 1);
  const tok = await loadTokenizer(dir);
  assert.deepEqual(tok.prefixIds, [1], 'Llama adds <s>');
  const eos = tok.eosId!;
  const code = 'function add(a, b) {\n  return a + b;\n}';
  const prompt = tok.encode('[INST] What is 2+2? [/INST]');
  const reply = tok.encode(' Four.');
  const ids = [1, ...tok.encode(code), eos, 1, ...prompt, ...reply, eos];
  const weights = [
    0,
    ...tok.encode(code).map(() => 1),
    1,
    0,
    ...prompt.map(() => 0),
    ...reply.map(() => 1),
    1,
  ];
  const out = exportSplit({ ids: Uint32Array.from(ids), weights: Uint8Array.from(weights) }, tok, eos);

  assert.deepEqual(out.text, [JSON.stringify({ text: code })]);
  assert.equal(out.segments.length, 1);
  const segments = (JSON.parse(out.segments[0]) as { segments: { label: boolean; text: string }[] }).segments;
  assert.deepEqual(
    segments.map((s) => s.label),
    [false, false, true, true],
    JSON.stringify(segments),
  );
  assert.equal(segments[0].text, '<s>');
  assert.equal(segments.at(-1)!.text, '</s>');
  // Encoded segment by segment, as Axolotl's input_output does: the very ids and loss weights.
  const again = segments.flatMap((s) => tok.encode(s.text).map((id) => [id, s.label ? 1 : 0]));
  assert.deepEqual(
    again.map(([id]) => id),
    ids.slice(tok.encode(code).length + 2),
  );
  assert.deepEqual(
    again.map(([, w]) => w),
    weights.slice(tok.encode(code).length + 2),
  );
  assert.deepEqual(out.roundTrip, { documents: 2, identical: 2 });
});
