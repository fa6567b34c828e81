import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChatTemplate } from '../../src/data/formats/chat';
import { parseRecord } from '../../src/data/formats/jsonl';
import { SampleEncoder } from '../../src/data/tokenize';
import { ALTERNATING_TEMPLATE, CHATML_TEMPLATE, gpt2Fixture } from './helpers';

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
    ['{"foo":"bar"}', /no "text", "prompt"\/"completion" or "messages"/],
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
