import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ChatTemplate } from '../../src/data/formats/chat';
import { parseRecord } from '../../src/data/formats/jsonl';
import { preTokenizerOf, SampleEncoder } from '../../src/data/tokenize';
import { ALTERNATING_TEMPLATE, CHATML_TEMPLATE, codeFile, gpt2Fixture } from './helpers';

const chatml = new ChatTemplate(CHATML_TEMPLATE);

test('text records carry loss everywhere', () => {
  assert.deepEqual(parseRecord('{"text":"hello"}', null), { sample: [{ text: 'hello', loss: true }] });
});

test('prompt/completion: loss on the completion only', () => {
  assert.deepEqual(parseRecord('{"prompt":"Q: 2+2?\\nA:","completion":" 4"}', null), {
    sample: [
      { text: 'Q: 2+2?\nA:', loss: false },
      { text: ' 4', loss: true },
    ],
  });
});

test('chat: rendered with the template, loss on assistant turns (with their end-of-turn marker) only', () => {
  const r = parseRecord(
    JSON.stringify({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello!' },
        { role: 'user', content: 'Bye' },
        { role: 'assistant', content: 'Bye!' },
      ],
    }),
    chatml,
  );
  assert.ok('sample' in r);
  const learned = r.sample.filter((s) => s.loss).map((s) => ('text' in s ? s.text : ''));
  assert.deepEqual(learned, ['Hello!<|im_end|>\n', 'Bye!<|im_end|>\n']);
  const whole = r.sample.map((s) => ('text' in s ? s.text : '')).join('');
  assert.ok(
    whole.startsWith(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n',
    ),
  );
});

test('chat: a template that is not prefix-stable still gets loss on the assistant content', () => {
  const t = new ChatTemplate(ALTERNATING_TEMPLATE, { eos_token: '</s>' });
  const r = parseRecord(
    JSON.stringify({
      messages: [
        { role: 'user', content: 'a' },
        { role: 'assistant', content: 'b' },
      ],
    }),
    t,
  );
  assert.ok('sample' in r);
  assert.deepEqual(
    r.sample.filter((s) => s.loss),
    [{ text: 'b</s>', loss: true }],
  );
});

test('bad records give a reason, not an exception', () => {
  const cases: [string, RegExp][] = [
    ['{"text": 1', /not valid JSON/],
    ['[1,2]', /not a JSON object/],
    ['{"foo":"bar"}', /no "text", "prompt"\/"completion", "messages" or "conversations"/],
    ['{"text": 5}', /"text" must be a string/],
    ['{"prompt":"a"}', /must both be strings/],
    ['{"prompt":"a","completion":""}', /nothing to learn/],
    ['{"messages":[]}', /non-empty array/],
    ['{"messages":[{"role":"user"}]}', /no string "content"/],
    ['{"messages":[{"role":"user","content":"x"}]}', /no "assistant" message/],
  ];
  for (const [line, reason] of cases) {
    const r = parseRecord(line, chatml);
    assert.ok('error' in r, line);
    assert.match(r.error, reason, line);
  }
  assert.match(
    (
      parseRecord(
        '{"messages":[{"role":"user","content":"x"},{"role":"assistant","content":"y"}]}',
        null,
      ) as { error: string }
    ).error,
    /no chat_template/,
  );
});

test('chat: a record without the roles the template needs is rejected with the template message', () => {
  const t = new ChatTemplate(ALTERNATING_TEMPLATE, { eos_token: '</s>' });
  const r = parseRecord(
    JSON.stringify({
      messages: [
        { role: 'assistant', content: 'b' },
        { role: 'user', content: 'a' },
      ],
    }),
    t,
  );
  assert.ok('error' in r);
  assert.match(r.error, /chat template rejected the record \(Conversation roles must alternate/);
});

test('the chat template comes from tokenizer_config.json; none means null', async () => {
  const withChat = await gpt2Fixture([], CHATML_TEMPLATE);
  const plain = await gpt2Fixture();
  assert.ok(ChatTemplate.fromModelDir(withChat.modelDir));
  assert.equal(ChatTemplate.fromModelDir(plain.modelDir), null);
});

test('encoding: weights follow the segments, EOS closes the sample, chat special tokens are single ids', async () => {
  const { tokenizer } = await gpt2Fixture(['<|im_start|>', '<|im_end|>']);
  const enc = new SampleEncoder(tokenizer, tokenizer.eosId!);
  const out = enc.encode([
    { text: 'Q: hi', loss: false },
    { text: ' there', loss: true },
  ]);
  assert.deepEqual(out.ids, [...tokenizer.encode('Q: hi'), ...tokenizer.encode(' there'), 50256]);
  assert.deepEqual(out.weights, [0, 0, 0, 1, 1]);
  const promptOnly = enc.encode([{ text: 'x', loss: false }]);
  assert.deepEqual(promptOnly.weights, [0, 0]); // nothing to learn, not even EOS
  assert.deepEqual(tokenizer.encode('<|im_start|>'), [tokenizer.tokenId('<|im_start|>')]);
});

test('chunked encoding equals whole-text encoding for GPT-2 byte-level BPE', async () => {
  const { tokenizer } = await gpt2Fixture();
  const enc = new SampleEncoder(tokenizer, tokenizer.eosId!);
  assert.equal(enc.chunked, true);
  const texts = [
    'import a\nimport b\n\n\nfunction f() {\n  return 1;\n}\n}\n',
    'no newline at all',
    '\n\nleading newlines\n  indented\nx',
    'trailing\n',
    'windows\r\nline\r\nends\r\n',
    'unicode é\n😀\n中文 mixed\n',
  ];
  for (const t of texts) assert.deepEqual(enc.encodeText(t), tokenizer.encode(t), JSON.stringify(t));
});

test('a tokenizer whose ids depend on where the text starts is not chunked', async () => {
  const { tokenizer } = await gpt2Fixture();
  // Like SentencePiece's leading "▁": the first piece of every encode call is marked.
  const startMarked = { ...tokenizer, encode: (t: string) => [7, ...tokenizer.encode(t)] };
  const enc = new SampleEncoder(startMarked, 0);
  assert.equal(enc.chunked, false);
  assert.deepEqual(enc.encodeText('a\nb\n'), [7, ...tokenizer.encode('a\nb\n')]);
});

/** Seeded texts that mix scripts, digits, punctuation, whitespace runs and contractions. */
function variedCorpus(count: number): string[] {
  let state = 12345;
  const next = (n: number) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % n;
  };
  const pieces = [
    'token',
    'Token',
    'x1',
    '42',
    '3.14',
    '1e-9',
    "it's",
    "we'll",
    "'S",
    "'ve",
    'naïve',
    'ΑΒΓ',
    'абв',
    '日本語',
    '한국어',
    'عربي',
    '😀',
    '👩‍👩‍👧',
    '\u0301',
    '=>',
    '===',
    '{',
    '}',
    '();',
    '/*',
    '*/',
    '#',
    '"str"',
    "'c'",
    '`t`',
    '\\n',
    '@',
    '$',
    '_under_score',
    'camelCase',
    'ALLCAPS',
    '\u00a0',
    '\u2003',
  ];
  const spaces = [' ', '  ', '   ', '\t', '\n', '\n\n', '\r\n', ' \n', '\n    ', '\n\t\t', ''];
  const texts: string[] = [];
  for (let t = 0; t < count; t++) {
    const parts: string[] = [];
    const n = 20 + next(400);
    for (let i = 0; i < n; i++) parts.push(pieces[next(pieces.length)], spaces[next(spaces.length)]);
    texts.push(parts.join(''));
  }
  return texts;
}

test('pre-token memo: ids equal whole-text encoding on a large varied corpus (GPT-2 byte-level BPE)', async () => {
  const { tokenizer, modelDir } = await gpt2Fixture(['<|im_start|>']);
  const json = JSON.parse(readFileSync(join(modelDir, 'tokenizer.json'), 'utf8'));
  const enc = new SampleEncoder(tokenizer, tokenizer.eosId!, json);
  assert.ok(enc.preTokenizer, 'GPT-2 is byte-level BPE with a regex pre-tokenizer');
  const texts = [
    ...variedCorpus(300),
    ...Array.from({ length: 40 }, (_, i) => codeFile(i, 6)),
    'ends with spaces   ',
    '   ',
    '',
    'has an added token <|im_start|> inside and <|endoftext|> too',
  ];
  let chars = 0;
  for (const t of texts) {
    chars += t.length;
    assert.deepEqual(enc.encodeText(t), tokenizer.encode(t), JSON.stringify(t.slice(0, 200)));
  }
  assert.ok(chars > 200_000, `corpus of ${chars} characters`);
});

test('pre-token memo is used only for pipelines that encode each pre-token alone', () => {
  const gpt2 = { type: 'ByteLevel', add_prefix_space: false, use_regex: true };
  const base = { normalizer: null, model: { type: 'BPE' }, added_tokens: [{ content: '<x>' }] };
  assert.deepEqual(preTokenizerOf({ ...base, pre_tokenizer: gpt2 })?.added, ['<x>']);
  assert.equal(preTokenizerOf({ ...base, pre_tokenizer: { ...gpt2, add_prefix_space: true } }), null);
  assert.equal(preTokenizerOf({ ...base, normalizer: { type: 'NFC' }, pre_tokenizer: gpt2 }), null);
  assert.equal(preTokenizerOf({ ...base, model: { type: 'Unigram' }, pre_tokenizer: gpt2 }), null);
  const split = (Regex: string) => ({
    ...base,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, use_regex: false },
      ],
    },
  });
  assert.ok(preTokenizerOf(split('\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+|\\s+'))?.pattern.flags.includes('g'));
  assert.equal(preTokenizerOf(split('(?i:a)b')), null, 'a regex JavaScript cannot parse');
});
