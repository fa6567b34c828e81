// The chat worker forked for real (its TypeScript source through tsx): two slots (base and tuned)
// answer the same conversation at the same time with streamed text, a stopped reply ends early
// with what was said, tokens are counted with the model's tokenizer, and a bad folder or a missing
// slot is a clear error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeChatModel } from '../../fixtures/tinyChat';
import { ChatClient } from '../../src/jobs/chatClient';
import { ChatModel } from '../../src/jobs/chatModel';

const WORKER = join(__dirname, '../../src/jobs/workers/chat.ts');
const tmp = mkdtempSync(join(tmpdir(), 'lt-chatclient-'));
const baseDir = join(tmp, 'base');
const otherDir = join(tmp, 'other');
const question = [{ role: 'user', content: 'What does the demo project do?' }];

test.before(() => {
  writeChatModel(baseDir, 1);
  writeChatModel(otherDir, 2);
});

test('two slots answer side by side, streamed, each as the model alone would', async (t) => {
  const client = new ChatClient({ workerPath: WORKER, env: { OMP_NUM_THREADS: '1' } });
  t.after(() => client.dispose());
  const [base, tuned] = await Promise.all([
    client.load('base', { modelDir: baseDir }),
    client.load('tuned', { modelDir: otherDir }),
  ]);
  assert.equal(base.chat, true);
  assert.equal(tuned.label, 'other');
  const streamed = { base: [] as string[], tuned: [] as string[] };
  const sampling = { maxTokens: 10, temperature: 0.8, topP: 0.9, seed: 5 };
  const [a, b] = await Promise.all(
    (['base', 'tuned'] as const).map((slot) =>
      client.reply(slot, question, sampling, { onText: (text) => streamed[slot].push(text) }),
    ),
  );
  assert.ok(streamed.base.length > 1 && streamed.tuned.length > 1, 'both streamed');
  assert.equal(streamed.base.at(-1), a.text);
  assert.notEqual(a.text, b.text, 'different weights, different replies');
  const alone = await (await ChatModel.load({ modelDir: baseDir }, { threads: 1 })).reply(question, sampling);
  assert.equal(a.text, alone.text, 'the worker gives what the model gives in process');

  const stop = new AbortController();
  const long = client.reply(
    'base',
    question,
    { maxTokens: 200 },
    {
      onText: () => stop.abort(),
      signal: stop.signal,
    },
  );
  const stopped = await long;
  assert.equal(stopped.stop, 'aborted');
  assert.ok(stopped.tokens < 200);

  const alsoAlone = await ChatModel.load({ modelDir: baseDir }, { threads: 1 });
  assert.equal(
    await client.countTokens('base', 'hello world, twice'),
    alsoAlone.countTokens('hello world, twice'),
  );
  await assert.rejects(client.reply('nope', question, {}), /no model loaded in slot "nope"/);
  await assert.rejects(client.load('base2', { modelDir: join(tmp, 'missing') }), /missing/);
  assert.ok(client.alive);
});
