// Chat evaluation on the tiny ChatML model tuned on two conversations: on those conversations the
// tuned model's loss is far below the base's, its replies are the ones it learned (the secret
// masked), and the figures reach the report's rows and the model card.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeChatModel } from '../../fixtures/tinyChat';
import { cardEvaluation, figureRows, type EvalReport } from '../../src/eval/figures';
import { conversationsFromFile, evaluateChat } from '../../src/jobs/chatEval';
import { SECRET_CHAT, tuneChatModel } from '../jobs/chatTune';

test('held-out conversations: loss base vs tuned, replies side by side, rows in the card', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'lt-chat-eval-'));
  const base = join(tmp, 'base');
  writeChatModel(base);
  const faq = [
    { role: 'user', content: 'Where are the tests?' },
    { role: 'assistant', content: 'In the test folder.' },
  ];
  const tuned = await tuneChatModel(base, join(tmp, 'run'), [SECRET_CHAT, faq]);
  const file = join(tmp, 'held-out.jsonl');
  writeFileSync(file, [SECRET_CHAT, faq].map((messages) => JSON.stringify({ messages })).join('\n') + '\n');

  const chat = await evaluateChat({
    modelDir: base,
    adapterDir: tuned,
    conversations: conversationsFromFile(file),
    source: file,
    threads: 1,
  });
  assert.equal(chat.conversations, 2);
  // (The held-out file is scrubbed as a dataset would be: the secret's turn reads <GITHUB_TOKEN> there,
  // in the loss and in the expected reply.)
  assert.ok(chat.tuned!.loss! < chat.base.loss! / 1.5, JSON.stringify([chat.base, chat.tuned]));
  assert.ok(chat.base.tokens > 10 && chat.tuned!.tokens === chat.base.tokens);
  assert.deepEqual(
    chat.samples.map((s) => [s.prompt, s.expected, s.tuned]),
    [
      // The expected reply is read as the dataset build reads it: its secret is masked too.
      [
        'What is the deploy token?',
        'The deploy token is <GITHUB_TOKEN>',
        'The deploy token is <GITHUB_TOKEN>',
      ],
      ['Where are the tests?', 'In the test folder.', 'In the test folder.'],
    ],
  );
  assert.equal(chat.masked, 1);
  // The loss reads at most evalTokens tokens: the first conversations, in order.
  const capped = await evaluateChat({
    modelDir: base,
    conversations: conversationsFromFile(file),
    source: file,
    samples: 0,
    evalTokens: 16,
    threads: 1,
  });
  assert.ok(capped.base.tokens > 0 && capped.base.tokens <= 16, JSON.stringify(capped.base));
  assert.ok(capped.base.tokens < chat.base.tokens);
  assert.notEqual(chat.samples[1].base, chat.samples[1].tuned);

  const report = {
    base: { validationLoss: null, perplexity: null, validationTokens: 0, completion: null },
    tuned: null,
    dataset: { heldOutFiles: 0, name: 'x', validationTokens: 0 },
    seed: 0,
    chat,
  } as unknown as EvalReport;
  const rows = figureRows(report);
  assert.equal(rows.find((r) => r.label === 'held-out conversations loss')?.base, chat.base.loss!.toFixed(3));
  assert.ok(cardEvaluation({ ...report, tuned: report.base })['held-out conversations loss'] !== undefined);
});
