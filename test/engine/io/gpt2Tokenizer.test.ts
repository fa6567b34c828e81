import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { encode as openaiEncode } from 'gpt-3-encoder';
import { join } from 'node:path';
import { writeGpt2TokenizerFiles } from '../../../src/engine/io/gpt2Tokenizer';
import { loadTokenizer } from '../../../src/engine/io/tokenizer';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'localtune-gpt2tok-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const VARIED = [
  'def add(a, b):\n    return a + b  # sum\n\n\tif x:\r\n\t\tpass',
  '   leading and trailing spaces   ',
  'ünïcödé ÀÉÎ 日本語のテキスト Ελληνικά русский',
  'emoji 🎉👩‍👩‍👧 🏳️‍🌈 and combining e\u0301',
  'const s = `${a}`;\n\n\n\n    x => x ** 2;   \t ',
  "it's don't I'll we've 12345 3.14159 $$$ <tag attr=\"1\"/>",
  '',
].join('\n');

test('the written GPT-2 tokenizer loads and round-trips varied text exactly', async (t) => {
  const dir = tempDir(t);
  writeGpt2TokenizerFiles(dir);
  const tok = await loadTokenizer(dir);
  assert.equal(tok.vocabSize, 50257);
  assert.equal(tok.eosId, 50256);
  for (const text of [VARIED, ...VARIED.split('\n')]) {
    assert.equal(tok.decode(tok.encode(text)), text);
  }
  // The same ids as an independent port of OpenAI's encoder (the package the vocabulary came from).
  for (const text of [VARIED, ...VARIED.split('\n')])
    assert.deepEqual(tok.encode(text), openaiEncode(text), text);
  // Known GPT-2 ids (from OpenAI's encoder): no prefix space, no BOS/EOS added.
  assert.deepEqual(tok.encode('Hello world'), [15496, 995]);
  assert.deepEqual(tok.encode(' Hello'), [18435]);
  assert.deepEqual(tok.encode('<|endoftext|>'), [50256]);
  assert.deepEqual(tok.encode('a\n\nb'), [64, 198, 198, 65]); // GPT-2's regex leaves one newline for 'b'
  assert.deepEqual(tok.encode('a\n\n'), [64, 628]);
  assert.equal(tok.tokenId('<|endoftext|>'), 50256);
  assert.equal(tok.tokenId('Hello'), 15496);
  assert.equal(tok.tokenId('<fim_prefix>'), undefined);
  assert.deepEqual(tok.encode(''), []);
  assert.equal(tok.decode([]), '');

  const config = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
  assert.equal(config.tokenizer_class, 'GPT2Tokenizer');
  assert.equal(config.eos_token, '<|endoftext|>');
  assert.equal(config.bos_token, '<|endoftext|>');
  assert.equal(config.unk_token, '<|endoftext|>');
  assert.equal(config.model_max_length, 1024);
  const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
  assert.equal(json.model.type, 'BPE');
  assert.equal(json.pre_tokenizer.type, 'ByteLevel');
  assert.equal(json.pre_tokenizer.add_prefix_space, false);
  assert.equal(json.decoder.type, 'ByteLevel');
  assert.equal(json.post_processor.type, 'ByteLevel');
  assert.equal(json.model.merges.length, 50000);
});

test('extra special tokens get ids after 50256 and encode as single ids', async (t) => {
  const dir = tempDir(t);
  const fim = ['<fim_prefix>', '<fim_middle>', '<fim_suffix>'];
  writeGpt2TokenizerFiles(dir, { extraSpecialTokens: fim });
  const tok = await loadTokenizer(dir);
  assert.equal(tok.vocabSize, 50260);
  assert.deepEqual(
    fim.map((s) => tok.tokenId(s)),
    [50257, 50258, 50259],
  );
  const text = '<fim_prefix>def f():<fim_suffix>\n<fim_middle>';
  const ids = tok.encode(text);
  assert.deepEqual(ids, [50257, 4299, 277, 33529, 50259, 198, 50258]);
  assert.equal(tok.decode(ids), text);
  assert.throws(
    () => writeGpt2TokenizerFiles(dir, { extraSpecialTokens: ['Hello'] }),
    /already in the GPT-2/,
  );
});
