/** A small GPT-2-shaped model (real GPT-2 tokenizer), a regular code corpus as a dataset, and a LoRA run on it. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildDataset } from '../../src/data/build';
import { readDataset } from '../../src/data/datasetFiles';
import { writeGpt2Model } from '../../fixtures/tinyModel';
import { loadModel } from '../../src/engine/models';
import { train } from '../../src/engine/train/trainer';

export const EVAL_SHAPE = { nLayer: 2, nHead: 4, nEmbd: 32, nPositions: 256 };

const NAMES = [
  'Order',
  'Cart',
  'User',
  'Invoice',
  'Product',
  'Basket',
  'Account',
  'Ticket',
  'Report',
  'Session',
];

/** A store class per file: the same shape every time, names varying, so most of it is predictable. */
export function storeFile(n: number): string {
  const name = `${NAMES[n % NAMES.length]}${Math.floor(n / NAMES.length)}`;
  return [
    `export class ${name}Store {`,
    `  private items: ${name}[] = [];`,
    '',
    `  add(item: ${name}): void {`,
    '    this.items.push(item);',
    '  }',
    '',
    '  size(): number {',
    '    return this.items.length;',
    '  }',
    '',
    '  clear(): void {',
    '    this.items = [];',
    '  }',
    '}',
    '',
  ].join('\n');
}

/**
 * The tuned model is a full fine-tune by default: on a randomly initialised base, LoRA cannot move
 * the tied embeddings, and it learns a 50k-token vocabulary too slowly for a unit test.
 */
export async function evalFixture(o: { files?: number; steps?: number; mode?: 'lora' | 'full' } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'lt-eval-'));
  const modelDir = join(root, 'base');
  await writeGpt2Model(modelDir, EVAL_SHAPE, 11, { embeddingStd: 0.1 });
  const workspace = join(root, 'ws');
  for (let n = 0; n < (o.files ?? 40); n++) {
    const path = join(workspace, 'src', `store${n}.ts`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, storeFile(n));
  }
  const datasetDir = join(root, 'dataset');
  await buildDataset({
    sources: [workspace],
    outDir: datasetDir,
    modelDir,
    valFraction: 0.2,
    seed: 3,
    workers: 0,
  });
  const runDir = join(root, 'run');
  let adapterDir: string | undefined;
  if (o.steps !== 0) {
    const ds = readDataset(datasetDir);
    const done = await train({
      model: loadModel(modelDir),
      baseModelName: modelDir,
      train: ds.train,
      validation: ds.validation,
      mode: o.mode ?? 'full',
      lora: { r: 8, alpha: 16, targets: ['c_attn', 'c_proj', 'c_fc'], dropout: 0, rslora: false },
      steps: o.steps ?? 100,
      lr: 1e-2,
      warmupSteps: 5,
      minLrRatio: 0.1,
      weightDecay: 0,
      clipNorm: 1,
      batchTokens: 256,
      seqLen: 64,
      microBatchTokens: 256,
      evalEvery: 0,
      evalTokens: 1024,
      checkpointEvery: 0,
      seed: 1,
      outDir: runDir,
      threads: 2,
    });
    adapterDir = done.finalDir;
  }
  return { root, modelDir, workspace, datasetDir, runDir, adapterDir };
}
