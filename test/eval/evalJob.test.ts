import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeChatModel } from '../../fixtures/tinyChat';
import { buildDataset } from '../../src/data/build';
import type { JobRequest, WorkerMessage } from '../../src/jobs/protocol';
import { WorkerJob } from '../../src/jobs/trainJob';
import { tuneOnFile } from '../jobs/chatTune';
import { evalFixture } from './fixture';

const WORKER = join(__dirname, '../../src/jobs/workers/train.ts');

/** Runs one job in the forked worker; its messages and how it ended. */
async function runJob(job: JobRequest) {
  const worker = new WorkerJob({ workerPath: WORKER, execArgv: ['--import', 'tsx'], job });
  const messages: WorkerMessage[] = [];
  worker.onMessage((m) => messages.push(m));
  const outcome = await worker.outcome;
  return { outcome, messages };
}

test('an eval job runs in the forked worker: progress lines, eval-done with the report, eval.json beside the adapter', async () => {
  const f = await evalFixture({ steps: 3, mode: 'lora', files: 12 });
  const { outcome, messages } = await runJob({
    kind: 'eval',
    modelDir: f.modelDir,
    adapterDir: f.adapterDir,
    datasetDir: f.datasetDir,
    spans: 3,
  });
  assert.equal(outcome.status, 'finished', JSON.stringify(outcome));
  const done = messages.find((m) => m.type === 'eval-done');
  assert.ok(done && done.type === 'eval-done');
  assert.equal(done.report.tuned!.completion!.spans, 3);
  assert.equal(done.reportPath, join(f.adapterDir!, 'eval.json'));
  assert.ok(existsSync(done.reportPath));
  assert.ok(messages.some((m) => m.type === 'log' && /tuned: completion 3\/3/.test(m.message)));
});

test('an eval job with a bad dataset fails with the user error as its message', async () => {
  const f = await evalFixture({ steps: 0, files: 6 });
  const { outcome } = await runJob({ kind: 'eval', modelDir: f.modelDir, datasetDir: join(f.root, 'nope') });
  assert.equal(outcome.status, 'failed');
  assert.ok(
    outcome.status === 'failed' && outcome.cause === 'user' && /not a dataset folder/.test(outcome.message),
  );
});

test('an eval job on a chat dataset (the editor’s Evaluate): the held-out conversations in report.chat', async () => {
  const root = mkdtempSync(join(tmpdir(), 'lt-eval-job-chat-'));
  const base = join(root, 'base');
  writeChatModel(base);
  // JSONL `messages` and ShareGPT `conversations` records: each line is one conversation.
  const lines = Array.from({ length: 12 }, (_, i) =>
    i % 2
      ? {
          messages: [
            { role: 'user', content: `Question ${i}?` },
            { role: 'assistant', content: `Answer ${i}.` },
          ],
        }
      : {
          conversations: [
            { from: 'human', value: `Ask ${i}?` },
            { from: 'gpt', value: `Reply ${i}.` },
          ],
        },
  );
  const file = join(root, 'faq.jsonl');
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const datasetDir = join(root, 'ds');
  const { manifest } = await buildDataset({
    sources: [file],
    modelDir: base,
    outDir: datasetDir,
    valFraction: 0.3,
  });
  const held = manifest.heldOut!.records!;
  assert.ok(held.length >= 2, JSON.stringify(held));
  const tuned = await tuneOnFile(base, join(root, 'run'), file, 10);
  const { outcome, messages } = await runJob({ kind: 'eval', modelDir: base, adapterDir: tuned, datasetDir });
  assert.equal(outcome.status, 'finished', JSON.stringify(outcome));
  const done = messages.find((m) => m.type === 'eval-done');
  assert.ok(done && done.type === 'eval-done');
  const chat = done.report.chat!;
  assert.equal(chat.conversations, held.length);
  assert.deepEqual(
    chat.samples.map((s) => [s.where, s.expected]),
    held.map((r) => {
      const l = lines[r.line - 1];
      return [`${file}:${r.line}`, 'messages' in l ? l.messages![1].content : l.conversations![1].value];
    }),
  );
  assert.ok(chat.samples.every((s) => typeof s.base === 'string' && typeof s.tuned === 'string'));
  assert.ok(chat.base.loss! > 0 && chat.tuned!.loss! > 0);
  assert.ok(messages.some((m) => m.type === 'log' && /held-out conversations/.test(m.message)));
  assert.deepEqual(JSON.parse(readFileSync(done.reportPath!, 'utf8')).chat, chat);

  // The editor exports a full fine-tune from its own folder: the card gains the chat figures.
  const exported = join(root, 'exported');
  const exportJob = await runJob({ kind: 'export', modelDir: tuned, outDir: exported, dtype: 'fp32' });
  assert.equal(exportJob.outcome.status, 'finished', JSON.stringify(exportJob.outcome));
  const card = readFileSync(join(exported, 'README.md'), 'utf8');
  const loss = (f: { loss: number | null }) => f.loss!.toFixed(3);
  assert.ok(
    card.includes(`| held-out conversations loss | ${loss(chat.tuned!)} (base model: ${loss(chat.base)}) |`),
    card,
  );
  assert.match(card, new RegExp(`${held.length} held-out conversations of ds \\(never trained on\\)`));
});
