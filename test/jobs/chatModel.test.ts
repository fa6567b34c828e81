// Talking to a model (src/jobs/chatModel.ts, chatOutput.ts) on the tiny ChatML fixture: a
// conversation is rendered through the model's own template and streamed; a model without a
// template continues the last user message; generated secrets are masked and counted, streamed in
// pieces and from a model that was tuned to say one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeChatModel } from '../../fixtures/tinyChat';
import { ChatModel, type ChatMessage } from '../../src/jobs/chatModel';
import { MaskedOutput, maskOutput } from '../../src/jobs/chatOutput';
import { PLANTED_SECRET, SECRET_CHAT, tuneChatModel } from './chatTune';

const tmp = mkdtempSync(join(tmpdir(), 'lt-chat-'));
const chatDir = join(tmp, 'chat');
const plainDir = join(tmp, 'plain');

test.before(() => {
  writeChatModel(chatDir);
  writeChatModel(plainDir);
  const path = join(plainDir, 'tokenizer_config.json');
  const { chat_template: _, ...config } = JSON.parse(readFileSync(path, 'utf8'));
  writeFileSync(path, JSON.stringify(config));
});

test('a chat model renders the conversation through its template and streams the reply', async () => {
  const model = await ChatModel.load({ modelDir: chatDir }, { threads: 1 });
  assert.ok(model.template);
  const messages: ChatMessage[] = [
    { role: 'system', content: 'You answer briefly.' },
    { role: 'user', content: 'How do I run the tests?' },
  ];
  const prompt = model.tokenizer.decode(model.prompt(messages));
  assert.equal(
    prompt,
    '<|im_start|>system\nYou answer briefly.<|im_end|>\n<|im_start|>user\nHow do I run the tests?<|im_end|>\n<|im_start|>assistant\n',
  );
  const seen: string[] = [];
  const reply = await model.reply(messages, { maxTokens: 12 }, { onText: (t) => seen.push(t) });
  assert.equal(reply.tokens, 12, 'the random model does not stop on its own');
  assert.equal(reply.stop, 'max_tokens');
  assert.ok(seen.length >= 2, 'streamed in pieces');
  for (let i = 1; i < seen.length; i++)
    assert.ok(seen[i].startsWith(seen[i - 1]), 'each piece extends the last');
  assert.equal(seen.at(-1), reply.text);
  assert.ok(reply.text.length > 0 && reply.tokensPerSecond > 0);
  // The same settings give the same reply; a second turn carries the first in its prompt.
  assert.equal((await model.reply(messages, { maxTokens: 12 })).text, reply.text);
  const turn2 = [
    ...messages,
    { role: 'assistant', content: reply.text },
    { role: 'user', content: 'And lint?' },
  ];
  assert.ok(
    model.tokenizer
      .decode(model.prompt(turn2))
      .includes(`assistant\n${reply.text}<|im_end|>\n<|im_start|>user\nAnd lint?`),
  );
  // Sampling with a seed is reproducible and differs from greedy.
  const a = await model.reply(messages, { maxTokens: 12, temperature: 1.5, seed: 4 });
  const b = await model.reply(messages, { maxTokens: 12, temperature: 1.5, seed: 4 });
  assert.equal(a.text, b.text);
  assert.notEqual(a.text, reply.text);
});

test('a model without a chat template continues the last user message', async () => {
  const model = await ChatModel.load({ modelDir: plainDir }, { threads: 1 });
  assert.equal(model.template, null);
  const ids = model.prompt([{ role: 'user', content: 'function add(a, b) {' }]);
  assert.equal(model.tokenizer.decode(ids), 'function add(a, b) {');
  assert.throws(() => model.prompt([]), /conversation is empty/);
});

test('streamed output is masked as a secret arrives over several pieces, and counted', () => {
  const out = new MaskedOutput();
  const pieces = ['Sure.\nThe token is ', PLANTED_SECRET.slice(0, 10), PLANTED_SECRET.slice(10), '\nDone'];
  let shown = '';
  for (const p of pieces) shown = out.push(p);
  assert.ok(!shown.includes(PLANTED_SECRET.slice(4)), shown);
  assert.match(shown, /The token is <GITHUB_TOKEN>\nDone$/);
  assert.equal(out.masked, 1);
  assert.equal(out.stableLength, shown.indexOf('Done'), 'the last, unfinished line may still change');
  assert.equal(out.finish(), shown);
  assert.equal(out.stableLength, shown.length);
  assert.deepEqual(maskOutput('no secrets here'), { text: 'no secrets here', masked: 0 });
});

test('a model tuned to say a secret has it masked in its reply', async () => {
  const tuned = await tuneChatModel(chatDir, join(tmp, 'secret-run'), [SECRET_CHAT]);
  const model = await ChatModel.load({ modelDir: tuned }, { threads: 1 });
  const reply = await model.reply(SECRET_CHAT.slice(0, 1), { maxTokens: 48 });
  assert.equal(reply.stop, 'eos', `stopped at the end of its turn (${reply.text})`);
  assert.equal(reply.text, 'The deploy token is <GITHUB_TOKEN>');
  assert.equal(reply.masked, 1);
});
