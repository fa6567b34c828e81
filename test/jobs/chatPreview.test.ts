// A chat dataset's preview shows each conversation rendered through the model's template with the
// assistant's turns (what the model learns to say) marked, from a real token stream and tokenizer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeChatModel } from '../../fixtures/tinyChat';
import { tokenStreamFromFiles } from '../../src/data/datasetFiles';
import type { DatasetManifest } from '../../src/data/manifest';
import { loadTokenizer } from '../../src/engine/tokenizer/tokenizer';
import { markedText, previewLines, type DatasetPreview } from '../../src/jobs/datasetPreview';
import { decodeSamples } from '../../src/jobs/datasetSamples';

test('chat samples come back as spans: the assistant turns with loss, the rest without', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'lt-chat-preview-'));
  const modelDir = join(tmp, 'chat');
  writeChatModel(modelDir);
  const data = join(tmp, 'faq.csv');
  writeFileSync(
    data,
    'question,answer\nWhere are the tests?,In test/.\nHow do I build?,Run npm run build.\n',
  );
  const tokenizer = await loadTokenizer(modelDir);
  const stream = await tokenStreamFromFiles([data], tokenizer, { modelDir });
  const manifest = { tokenizer: { eosId: tokenizer.eosId } } as unknown as DatasetManifest;
  const samples = await decodeSamples(stream, modelDir, manifest, 2);
  assert.equal(samples.length, 2);
  assert.deepEqual(samples[0].spans, [
    { text: '<|im_start|>user\nWhere are the tests?<|im_end|>\n<|im_start|>assistant\n', loss: false },
    { text: 'In test/.<|im_end|>\n', loss: true },
  ]);
  assert.equal(
    markedText(samples[1].spans!),
    '<|im_start|>user\nHow do I build?<|im_end|>\n<|im_start|>assistant\n⟦Run npm run build.<|im_end|>\n⟧',
  );
  const lines = previewLines({
    manifest: fakeManifest(),
    samples,
    requested: 2,
  } as unknown as DatasetPreview);
  assert.ok(lines.includes("(⟦…⟧ marks what the model is trained to say: the assistant's turns)"));
  assert.ok(
    lines.some((l) => l.endsWith('⟦In test/.<|im_end|>\n⟧')),
    lines.join('\n'),
  );
});

function fakeManifest(): DatasetManifest {
  const pair = { train: 1, validation: 0 };
  return {
    name: 'faq',
    sources: [{ path: 'faq.csv', kind: 'jsonl', documents: 2 }],
    documents: pair,
    files: pair,
    tokens: pair,
    lossTokens: pair,
    split: { method: 'file' },
    skipped: {},
    scrub: { findings: {}, allowed: 0, report: 'scrub-report.json' },
    fim: { style: null, documents: 0, rate: 0 },
  } as unknown as DatasetManifest;
}
