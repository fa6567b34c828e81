import assert from 'node:assert/strict';
import { readFileSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildDataset } from '../../src/data/build';
import { isDatasetDir, readDataset, tokenStreamFromFiles } from '../../src/data/datasetFiles';
import { UserError } from '../../src/engine/errors';
import { CHATML_TEMPLATE, codeFile, gpt2Fixture, tempDir, writeTree } from './helpers';

async function smallDataset(): Promise<string> {
  const root = tempDir('ws');
  writeTree(root, { 'a.ts': codeFile(1), 'b.ts': codeFile(2), 'c.ts': codeFile(3) });
  const { modelDir, tokenizer } = await gpt2Fixture();
  return (await buildDataset({ sources: [root], outDir: tempDir('out'), modelDir, tokenizer })).outDir;
}

const userError = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message);

test('isDatasetDir tells dataset folders from files and other folders', async () => {
  const dir = await smallDataset();
  assert.equal(isDatasetDir(dir), true);
  assert.equal(isDatasetDir(join(dir, 'manifest.json')), false);
  assert.equal(isDatasetDir(tempDir('plain')), false);
  assert.equal(isDatasetDir(join(dir, 'nope')), false);
});

test('readDataset names the missing, cut-short or corrupt file', async () => {
  const dir = await smallDataset();
  const { train, validation } = readDataset(dir);
  assert.equal(train.ids.length, train.weights.length);
  assert.ok(validation.ids.length > 0);

  const { segments } = readDataset(dir).manifest;
  truncateSync(join(dir, segments!.train[0].ids), 6);
  assert.throws(
    () => readDataset(dir),
    userError(/train-[0-9a-f]{16}\.ids\.u32: 6 bytes, the manifest says \d+ tokens/),
  );
  const other = await smallDataset();
  unlinkSync(join(other, readDataset(other).manifest.segments!.validation[0].weights));
  assert.throws(
    () => readDataset(other),
    userError(/validation-[0-9a-f]{16}\.weights\.u8: missing or unreadable \(ENOENT\)/),
  );
  writeFileSync(join(dir, 'manifest.json'), '{"format": "localtune-dataset", "version": 99');
  assert.throws(() => readDataset(dir), userError(/manifest\.json: unreadable or not JSON/));
  writeFileSync(join(dir, 'manifest.json'), '{"format": "localtune-dataset", "version": 99}');
  assert.throws(() => readDataset(dir), userError(/format version 99/));
  assert.throws(() => readDataset(tempDir('plain')), userError(/not a dataset folder/));
});

test('readDataset reads a dataset written before segments (one file per stream)', async () => {
  const dir = await smallDataset();
  const segmented = readDataset(dir);
  const { segments, ...manifest } = segmented.manifest;
  for (const split of ['train', 'validation'] as const) {
    const parts = segments![split];
    writeFileSync(
      join(dir, `${split}.ids.u32`),
      Buffer.concat(parts.map((s) => readFileSync(join(dir, s.ids)))),
    );
    writeFileSync(
      join(dir, `${split}.weights.u8`),
      Buffer.concat(parts.map((s) => readFileSync(join(dir, s.weights)))),
    );
    for (const s of parts) for (const f of [s.ids, s.weights]) unlinkSync(join(dir, f));
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  const flat = readDataset(dir);
  assert.deepEqual(flat.train, segmented.train);
  assert.deepEqual(flat.validation, segmented.validation);
});

test('tokenStreamFromFiles: text files and JSONL of every format, malformed lines reported and skipped', async () => {
  const { modelDir, tokenizer } = await gpt2Fixture(['<|im_start|>', '<|im_end|>'], CHATML_TEMPLATE);
  const dir = tempDir('files');
  writeTree(dir, {
    'notes.md': '# Notes\nuse the cache\n',
    'data.jsonl': [
      JSON.stringify({ text: 'hello' }),
      JSON.stringify({ prompt: 'Q', completion: ' A' }),
      'not json',
      JSON.stringify({
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'yo' },
        ],
      }),
    ].join('\n'),
  });
  const warnings: string[] = [];
  const s = await tokenStreamFromFiles([join(dir, 'notes.md'), join(dir, 'data.jsonl')], tokenizer, {
    modelDir,
    onWarning: (w) => warnings.push(w),
  });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /data\.jsonl:3: not valid JSON/);
  const eos = tokenizer.eosId!;
  const ids = [...s.ids];
  assert.equal(ids.filter((x) => x === eos).length, 4);
  const docs = tokenizer.decode(ids).split('<|endoftext|>');
  assert.deepEqual(docs, [
    '# Notes\nuse the cache\n',
    'hello',
    'Q A',
    '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nyo<|im_end|>\n',
    '',
  ]);
  // loss only on the completion and the assistant turn
  const lossText = tokenizer.decode(ids.filter((_, i) => s.weights[i] === 1 && ids[i] !== eos));
  assert.equal(lossText, '# Notes\nuse the cache\nhello Ayo<|im_end|>\n');
});

test('tokenStreamFromFiles: a missing file is a user error; chat records without a template are reported', async () => {
  const { tokenizer } = await gpt2Fixture();
  await assert.rejects(
    tokenStreamFromFiles(['/nonexistent/x.txt'], tokenizer),
    userError(/x\.txt: cannot read \(no such file\)/),
  );
  const dir = tempDir('files');
  writeTree(dir, {
    'chat.jsonl':
      JSON.stringify({
        messages: [
          { role: 'user', content: 'a' },
          { role: 'assistant', content: 'b' },
        ],
      }) + '\n',
  });
  const warnings: string[] = [];
  await assert.rejects(
    tokenStreamFromFiles([join(dir, 'chat.jsonl')], tokenizer, { onWarning: (w) => warnings.push(w) }),
    userError(/no usable documents/),
  );
  assert.match(warnings[0], /chat\.jsonl:1: a chat record, but the model has no chat_template/);
});
