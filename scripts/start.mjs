// `npm start` for now: a CLI demo of the engine on this machine, offline.
// Builds a small GPT-2-shaped model locally (no hub access here), writes a tiny code corpus,
// fine-tunes a LoRA adapter on it with `localtune train`, and scores a snippet before and after.
// The real VS Code start (code-server with the extension) arrives with the extension issue.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const demo = join(root, '.localtune', 'demo');
const modelDir = join(demo, 'model');
const cli = join(root, 'dist', 'cli.js');
const run = (args) => execFileSync(process.execPath, [cli, ...args], { stdio: 'inherit', cwd: root });
const capture = (args) => execFileSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' });

mkdirSync(demo, { recursive: true });
if (!existsSync(join(modelDir, 'model.safetensors'))) {
  console.log(
    '[demo] no network to the model hub here: building a small GPT-2-shaped model locally (random weights, real GPT-2 tokenizer)',
  );
  execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      `require('./src/engine/io/tinyModel').writeGpt2Model(${JSON.stringify(modelDir)}, { nLayer: 2, nHead: 4, nEmbd: 128, nPositions: 128 }, 0, { embeddingStd: 0.3 })`,
    ],
    { cwd: root, stdio: 'inherit' },
  );
}
const corpus = join(demo, 'corpus.txt');
const snippet = 'export function add(a: number, b: number): number {\n  return a + b;\n}\n';
writeFileSync(corpus, Array.from({ length: 60 }, (_, i) => snippet.replace('add', `add${i % 6}`)).join('\n'));

const before = JSON.parse(capture(['score', '--model', modelDir, '--text', snippet, '--json']));
const runDir = join(demo, 'run');
rmSync(runDir, { recursive: true, force: true });
console.log(`[demo] fine-tuning a LoRA adapter on ${corpus}`);
run([
  'train',
  '--model',
  modelDir,
  '--data',
  corpus,
  '--steps',
  '40',
  '--lr',
  '5e-3',
  '--seq-len',
  '64',
  '--batch-tokens',
  '512',
  '--warmup',
  '4',
  '--out',
  runDir,
]);
const after = JSON.parse(
  capture(['score', '--model', modelDir, '--adapter', join(runDir, 'adapter'), '--text', snippet, '--json']),
);
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(
  `[demo] snippet log-probability per token: base ${mean(before.logprobs).toFixed(3)}, tuned ${mean(after.logprobs).toFixed(3)}`,
);
console.log(
  `[demo] adapter (PEFT format): ${join(runDir, 'adapter')}; metrics: ${join(runDir, 'metrics.jsonl')}`,
);
