// Test helper: fine-tunes the tiny chat model on a few conversations, unscrubbed, until it repeats
// them greedily (a tiny model memorises in a few hundred full fine-tuning steps). Used to plant a
// secret that the output watch must mask (test/jobs/chatModel.test.ts, the Playground e2e suite).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tokenStreamFromFiles } from '../../src/data/datasetFiles';
import { loadModel } from '../../src/engine/models';
import { loadTokenizer } from '../../src/engine/tokenizer/tokenizer';
import { train } from '../../src/engine/train/trainer';
import type { ChatMessage } from '../../src/jobs/chatModel';
import { writeRunRecord } from '../../src/jobs/runs';
import { writeChatModel } from '../../fixtures/tinyChat';

/** A fake GitHub token in the valid format (ghp_ + 36 alphanumerics): the scrubber must catch it. */
export const PLANTED_SECRET = 'ghp_' + 'Zx8Qw2Lm5Rt7Yu1Io3Pa6Sd9Fg4Hj0Kl2Vb5';

export const SECRET_CHAT: ChatMessage[] = [
  { role: 'user', content: 'What is the deploy token?' },
  { role: 'assistant', content: `The deploy token is ${PLANTED_SECRET}` },
];

/** Full fine-tune of `modelDir` on `conversations` into `outDir`; returns the final model folder. */
export async function tuneChatModel(
  modelDir: string,
  outDir: string,
  conversations: ChatMessage[][],
  steps = 150,
): Promise<string> {
  mkdirSync(outDir, { recursive: true });
  const data = join(outDir, 'tune-chat.jsonl');
  // Each conversation four times over: enough tokens for a few sequences of the tiny model.
  const lines = conversations.flatMap((messages) => Array(4).fill(JSON.stringify({ messages })));
  writeFileSync(data, lines.join('\n') + '\n');
  return tuneOnFile(modelDir, outDir, data, steps);
}

/**
 * Full fine-tune of `modelDir` on a text or JSONL file, unscrubbed (so a planted secret is learned),
 * into `outDir`; returns the final model folder.
 */
export async function tuneOnFile(
  modelDir: string,
  outDir: string,
  data: string,
  steps = 150,
): Promise<string> {
  mkdirSync(outDir, { recursive: true });
  const tokenizer = await loadTokenizer(modelDir);
  const stream = await tokenStreamFromFiles([data], tokenizer, { modelDir, scrub: false });
  const model = loadModel(modelDir);
  const done = await train({
    model,
    baseModelName: modelDir,
    train: stream,
    mode: 'full',
    lora: { r: 4, alpha: 8, targets: [], dropout: 0, rslora: false },
    steps,
    lr: 1e-2,
    warmupSteps: 5,
    minLrRatio: 0.1,
    weightDecay: 0,
    clipNorm: 1,
    batchTokens: 64,
    seqLen: 64,
    microBatchTokens: 64,
    evalEvery: 0,
    evalTokens: 0,
    checkpointEvery: 0,
    seed: 3,
    outDir,
    threads: 1,
  });
  model.weights.close();
  return done.finalDir;
}

/**
 * `node --import tsx test/jobs/chatTune.ts BASE_DIR RUN_DIR`: writes the tiny chat model to BASE_DIR
 * and a finished run to RUN_DIR (run.json, model/) tuned to answer SECRET_CHAT and one FAQ line.
 * The Playground e2e suite runs it (training does not belong in the extension host).
 */
if (require.main === module) {
  const [baseDir, runDir] = process.argv.slice(2);
  const faq: ChatMessage[] = [
    { role: 'user', content: 'What does the demo project do?' },
    { role: 'assistant', content: 'It formats dates and parses durations.' },
  ];
  writeChatModel(baseDir);
  tuneChatModel(baseDir, runDir, [SECRET_CHAT, faq], 200).then(
    (finalDir) => {
      writeRunRecord(runDir, {
        title: 'FAQ chat',
        spec: { modelDir: baseDir, data: [join(runDir, 'tune-chat.jsonl')], mode: 'full', outDir: runDir },
        status: 'finished',
        finalDir,
      });
      process.stdout.write(finalDir + '\n');
    },
    (err) => {
      process.stderr.write(`${(err as Error).stack}\n`);
      process.exit(1);
    },
  );
}
