/**
 * The hand-off tests' world: a tiny Qwen2 model (GPT-2 vocabulary + Qwen2.5-Coder's FIM tokens), a
 * workspace of code built into a FIM dataset, and the simulated GPU engine (simulated_engine.py)
 * fed the exported JSONL tokenized as Axolotl tokenizes it.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildDataset } from '../../../src/data/build';
import { loadTokenizer, type Tokenizer } from '../../../src/engine/tokenizer/tokenizer';
import { writeLlamaModel, TINY_LLAMA } from '../../../fixtures/tinyLlama';
import { storeFile } from '../../eval/fixture';
import { runReference } from '../../helpers/torchReference';
import { cli } from '../../cli/capture';

export const ENGINE_SCRIPT = join(__dirname, 'simulated_engine.py');

/** The run both sides train: short, with a rate high enough that 8 steps move a tiny model. */
export const RUN_FLAGS = [
  ...['--steps', '8', '--seq-len', '64', '--batch-tokens', '256', '--micro-batch-tokens', '128'],
  ...['--lr', '0.01', '--warmup', '2', '--eval-every', '4', '--lora-r', '4', '--lora-alpha', '8'],
];

export async function handoffFixture() {
  const root = mkdtempSync(join(tmpdir(), 'lt-handoff-'));
  const modelDir = join(root, 'base');
  writeLlamaModel(modelDir, TINY_LLAMA, 5, { modelType: 'qwen2', embeddingStd: 0.5, initStd: 0.12 });
  for (let n = 0; n < 30; n++) {
    const path = join(root, 'ws', 'src', `store${n}.ts`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, storeFile(n));
  }
  const datasetDir = join(root, 'dataset');
  await buildDataset({
    sources: [join(root, 'ws')],
    outDir: datasetDir,
    modelDir,
    valFraction: 0.2,
    seed: 3,
    workers: 0,
  });
  return { root, modelDir, datasetDir, tokenizer: await loadTokenizer(modelDir) };
}

/** `localtune job export` of the fixture's run for `engine` into `<root>/job`; throws its error line. */
export async function exportedJob(
  f: Awaited<ReturnType<typeof handoffFixture>>,
  engine: 'axolotl' | 'trl',
  flags: string[],
): Promise<string> {
  const jobDir = join(f.root, 'job');
  const r = await cli(
    'job',
    'export',
    '--engine',
    engine,
    '--out',
    jobDir,
    '--model',
    f.modelDir,
    '--data',
    f.datasetDir,
    ...flags,
  );
  if (r.code !== 0) throw new Error(`job export failed: ${r.err.join('\n')}`);
  return jobDir;
}

interface Example {
  input_ids: number[];
  labels: number[];
}

/**
 * An exported JSONL file's rows as Axolotl tokenizes them: `completion` rows are the tokenizer's
 * prefix + the text + EOS, `input_output` rows each segment on its own (labels -100 where false).
 */
export function tokenizeAsAxolotl(path: string, tokenizer: Tokenizer, eosId: number): Example[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const row = JSON.parse(line) as { text?: string; segments?: { label: boolean; text: string }[] };
      if (row.text !== undefined) {
        const ids = [...tokenizer.prefixIds, ...tokenizer.encode(row.text), eosId];
        return { input_ids: ids, labels: ids };
      }
      const out: Example = { input_ids: [], labels: [] };
      for (const seg of row.segments ?? []) {
        const ids = tokenizer.encode(seg.text);
        out.input_ids.push(...ids);
        out.labels.push(...(seg.label ? ids : ids.map(() => -100)));
      }
      return out;
    });
}

/** Runs the simulated engine on a job folder written for Axolotl; it saves into `<job>/output/`. */
export function trainElsewhere(jobDir: string, tokenizer: Tokenizer, eosId: number, files: string[][]) {
  const [train, validation] = files.map((split) =>
    split.flatMap((f) => tokenizeAsAxolotl(join(jobDir, f), tokenizer, eosId)),
  );
  const tokens = join(jobDir, 'tokens.json');
  writeFileSync(tokens, JSON.stringify({ train, validation }));
  return runReference<{ steps: number; first_loss: number; last_loss: number }>(ENGINE_SCRIPT, [
    jobDir,
    tokens,
  ]);
}
