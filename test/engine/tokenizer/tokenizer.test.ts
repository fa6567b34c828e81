import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../../src/engine/errors';
import { writeGpt2TokenizerFiles } from '../../../fixtures/gpt2Tokenizer';
import { loadTokenizer } from '../../../src/engine/tokenizer/tokenizer';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'localtune-tok-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function rejectsUser(p: Promise<unknown>, ...parts: string[]) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof UserError, `expected UserError, got ${err}`);
    assert.ok(!err.message.includes('\n'), 'one line');
    for (const part of parts) assert.ok(err.message.includes(part), `"${err.message}" lacks "${part}"`);
    return true;
  });
}

/** A tiny word-level tokenizer.json written by hand: a second, non-GPT-2 format through the same loader. */
function writeWordLevel(dir: string) {
  mkdirSync(dir, { recursive: true });
  const vocab = { '[UNK]': 0, hello: 1, world: 2, '</s>': 3 };
  writeFileSync(
    join(dir, 'tokenizer.json'),
    JSON.stringify({
      version: '1.0',
      added_tokens: [
        {
          id: 3,
          content: '</s>',
          single_word: false,
          lstrip: false,
          rstrip: false,
          normalized: false,
          special: true,
        },
      ],
      normalizer: null,
      pre_tokenizer: { type: 'Whitespace' },
      post_processor: null,
      decoder: null,
      model: { type: 'WordLevel', vocab, unk_token: '[UNK]' },
    }),
  );
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify({ eos_token: '</s>', unk_token: '[UNK]' }),
  );
}

test('loads a relative folder path and a non-GPT-2 tokenizer; unknown tokens look up as undefined', async (t) => {
  const dir = tempDir(t);
  writeWordLevel(join(dir, 'wl'));
  const tok = await loadTokenizer(join(dir, 'wl'));
  assert.deepEqual(tok.encode('hello world mars'), [1, 2, 0]);
  assert.equal(tok.eosId, 3);
  assert.equal(tok.vocabSize, 4);
  assert.equal(tok.tokenId('</s>'), 3);
  assert.equal(tok.tokenId('mars'), undefined); // not the unk id

  const cwd = process.cwd();
  process.chdir(dir);
  t.after(() => process.chdir(cwd));
  writeGpt2TokenizerFiles('gpt2');
  const rel = await loadTokenizer('gpt2');
  assert.deepEqual(rel.encode('Hello world'), [15496, 995]);
});

test('a missing or corrupt tokenizer.json gives a UserError naming the file', async (t) => {
  const dir = tempDir(t);
  await rejectsUser(loadTokenizer(dir), join(dir, 'tokenizer.json'), 'missing');

  writeFileSync(join(dir, 'tokenizer.json'), '{"model": {"type": "BPE", "vocab": {');
  await rejectsUser(loadTokenizer(dir), join(dir, 'tokenizer.json'), 'not valid JSON');

  writeFileSync(join(dir, 'tokenizer.json'), '[1, 2]');
  await rejectsUser(loadTokenizer(dir), join(dir, 'tokenizer.json'), 'not a JSON object');

  writeFileSync(join(dir, 'tokenizer.json'), '{"version": "1.0"}');
  await rejectsUser(loadTokenizer(dir), join(dir, 'tokenizer.json'), 'no "model"');

  // Valid JSON that transformers cannot build a tokenizer from.
  writeFileSync(join(dir, 'tokenizer.json'), '{"model": {"type": "NoSuchModel"}}');
  await rejectsUser(loadTokenizer(dir), join(dir, 'tokenizer.json'), 'could not load');

  writeGpt2TokenizerFiles(dir);
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    readFileSync(join(dir, 'tokenizer_config.json'), 'utf8').slice(0, 20),
  );
  await rejectsUser(loadTokenizer(dir), join(dir, 'tokenizer_config.json'), 'not valid JSON');
});
