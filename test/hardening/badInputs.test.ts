/**
 * Hundreds of bad inputs through every command, generated from tables: every numeric flag with the
 * values it refuses, every path flag given something missing or of the wrong kind, damaged model
 * folders, damaged datasets, adapters and runs of another model. Each must end in exit code 2 with
 * exactly one line on stderr, no stack frame, and nothing written where the command would write.
 * In-process (test/cli/capture.ts), so the whole corpus runs in seconds per hundred.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockFileOf } from '../../src/engine/formats/lock';
import { cli } from '../cli/capture';
import { type Corpus, makeCorpus, TINY_TRAIN } from './fixtures';

interface Case {
  name: string;
  argv: string[];
  /** A folder the command would write: it must not exist afterwards (nor its lock). */
  out?: string;
  /** A file given where a folder is wanted, or an existing output folder: unchanged afterwards. */
  untouched?: string;
}

const root = mkdtempSync(join(tmpdir(), 'lt-bad-'));
let c: Corpus;
let outs = 0;
/** A fresh output path per case. */
const freshOut = () => join(root, 'outs', `o${outs++}`);

test.before(async () => {
  c = await makeCorpus(root);
  mkdirSync(join(root, 'outs'));
});

const INVALID = ['0', '-1', 'NaN', '1e99', 'abc', ''];
/** Numeric flags of each command and the values of INVALID they accept (the rest must be refused). */
const NUMERIC: Record<
  string,
  { flags: Record<string, string[]>; argv: (c: Corpus, out: string) => string[] }
> = {
  train: {
    argv: (c, out) => [
      'train',
      '--model',
      c.model,
      '--data',
      c.text,
      '--out',
      out,
      '--steps',
      '1',
      ...TINY_TRAIN,
    ],
    flags: {
      'lora-r': [],
      'lora-alpha': [],
      'lora-dropout': ['0'],
      steps: ['0'],
      epochs: [],
      lr: [],
      warmup: ['0'],
      'weight-decay': ['0'],
      clip: ['0'],
      'batch-tokens': [],
      'seq-len': [],
      'micro-batch-tokens': [],
      'eval-every': ['0'],
      'eval-tokens': [],
      patience: ['0'],
      'checkpoint-every': ['0'],
      seed: ['0'],
      threads: [],
    },
  },
  'dataset build': {
    argv: (c, out) => [
      'dataset',
      'build',
      '--from',
      join(c.root, 'workspace'),
      '--model',
      c.model,
      '--out',
      out,
    ],
    flags: {
      'fim-rate': ['0'],
      'spm-rate': ['0'],
      'val-fraction': ['0'],
      seed: ['0'],
      'max-file-kb': [],
      'near-threshold': [],
    },
  },
  'dataset show': { argv: (c) => ['dataset', 'show', c.dataset], flags: { samples: ['0'] } },
  generate: {
    argv: (c) => ['generate', '--model', c.model, '--prompt', 'def', '--max-tokens', '2'],
    flags: { 'max-tokens': [], temperature: ['0'], 'top-p': [], seed: ['0'] },
  },
  eval: {
    argv: (c) => ['eval', '--model', c.model, '--data', c.dataset, '--spans', '1', '--eval-tokens', '64'],
    flags: { spans: ['0'], seed: ['0'], 'eval-tokens': [], threads: [] },
  },
};

function numericCases(): Case[] {
  const cases: Case[] = [];
  for (const [cmd, { flags, argv }] of Object.entries(NUMERIC))
    for (const [flag, accepted] of Object.entries(flags))
      for (const v of INVALID.filter((x) => !accepted.includes(x))) {
        const out = freshOut();
        cases.push({
          name: `${cmd} --${flag} ${JSON.stringify(v)}`,
          argv: [...argv(c, out), `--${flag}`, v],
          out,
        });
      }
  return cases;
}

function pathCases(): Case[] {
  const missing = join(root, 'no-such-thing');
  const file = c.text;
  const folder = join(root, 'workspace');
  const cases: Case[] = [];
  const add = (name: string, argv: string[], o: Partial<Case> = {}) => cases.push({ name, argv, ...o });
  const train = (out: string) => ['train', '--data', c.text, '--out', out, '--steps', '1', ...TINY_TRAIN];
  for (const [what, p] of [
    ['missing', missing],
    ['a file', file],
    ['a folder that is not a model', folder],
  ] as const) {
    let out = freshOut();
    add(`train --model ${what}`, [...train(out), '--model', p], { out });
    add(`score --model ${what}`, ['score', '--model', p, '--ids', '1,2']);
    add(`generate --model ${what}`, ['generate', '--model', p, '--prompt', 'x']);
    out = freshOut();
    add(`export --model ${what}`, ['export', '--model', p, '--out', out], { out });
    add(`eval --model ${what}`, ['eval', '--model', p, '--data', c.dataset]);
    out = freshOut();
    add(`dataset build --model ${what}`, ['dataset', 'build', '--from', folder, '--model', p, '--out', out], {
      out,
    });
  }
  for (const [what, p] of [
    ['missing', missing],
    ['a file', file],
    ['a folder that is not an adapter', folder],
    ['an adapter of another model', c.otherAdapter],
    ['a run folder, not its adapter', c.otherRun],
    ['an adapter holding NaN', c.nanAdapter],
  ] as const) {
    let out = freshOut();
    add(`train --adapter ${what}`, [...train(out), '--model', c.model, '--adapter', p], { out });
    add(`score --adapter ${what}`, ['score', '--model', c.model, '--adapter', p, '--ids', '1,2']);
    add(`generate --adapter ${what}`, ['generate', '--model', c.model, '--adapter', p, '--prompt', 'x']);
    out = freshOut();
    add(`export --adapter ${what}`, ['export', '--model', c.model, '--adapter', p, '--out', out], { out });
    if (what !== 'a folder that is not an adapter')
      add(`eval --adapter ${what}`, ['eval', '--model', c.model, '--adapter', p, '--data', c.dataset]);
  }
  for (const [what, p] of [
    ['missing', missing],
    ['a file', file],
    ['a folder with no checkpoint', folder],
    ['a run of another model', c.otherRun],
    ['a checkpoint of another model', join(c.otherRun, 'checkpoints', 'step-000001')],
  ] as const)
    add(`train --resume ${what}`, [
      'train',
      '--model',
      c.model,
      '--data',
      c.text,
      ...TINY_TRAIN,
      '--resume',
      p,
    ]);
  for (const [what, p] of [
    ['missing', missing],
    ['a folder of files, not a dataset', join(root, 'outs')],
    ['an empty file', emptyFile()],
    ['a binary file', binaryFile()],
    ['a malformed JSONL line', malformedJsonl()],
  ] as const) {
    const out = freshOut();
    add(`train --data ${what}`, ['train', '--model', c.model, '--out', out, ...TINY_TRAIN, '--data', p], {
      out,
    });
  }
  for (const [what, p] of [
    ['missing', missing],
    ['a file', file],
    ['a folder that is not a dataset', folder],
  ] as const) {
    add(`eval --data ${what}`, ['eval', '--model', c.model, '--data', p]);
    add(`dataset show ${what}`, ['dataset', 'show', p]);
  }
  // --out that is an existing file: refused, the file untouched.
  const outFile = join(root, 'a-file');
  writeFileSync(outFile, 'keep me');
  add('train --out a file', [...train(outFile), '--model', c.model], { untouched: outFile });
  add(
    'dataset build --out a file',
    ['dataset', 'build', '--from', folder, '--model', c.model, '--out', outFile],
    {
      untouched: outFile,
    },
  );
  add('export --out a file', ['export', '--model', c.model, '--out', outFile], { untouched: outFile });
  add('export --out an existing folder', ['export', '--model', c.model, '--out', c.dataset]);
  // A JSONL file named in --from with a malformed line: file:line, exit 2 (as in train).
  let out = freshOut();
  add(
    'dataset build --from a malformed JSONL file',
    ['dataset', 'build', '--from', malformedJsonl(), '--model', c.model, '--out', out],
    { out },
  );
  const unusable = join(root, 'unusable');
  mkdirSync(unusable, { recursive: true });
  writeFileSync(join(unusable, 'blob.bin'), readFileSync(binaryFile()));
  out = freshOut();
  add(
    'dataset build --from nothing usable',
    ['dataset', 'build', '--from', unusable, '--model', c.model, '--out', out],
    { out },
  );
  // A failed rebuild of an existing dataset leaves it as it was (cache/ included).
  add(
    'dataset build over an existing dataset, failing',
    ['dataset', 'build', '--from', unusable, '--model', c.model, '--out', c.dataset],
    { untouched: c.dataset },
  );
  add(
    'dataset build over an existing dataset, a malformed JSONL file',
    ['dataset', 'build', '--from', malformedJsonl(), '--model', c.model, '--out', c.dataset],
    { untouched: c.dataset },
  );
  out = freshOut();
  add(
    'dataset build --from missing',
    ['dataset', 'build', '--from', missing, '--model', c.model, '--out', out],
    {
      out,
    },
  );
  for (const [what, p] of [
    ['missing', missing],
    ['a folder', folder],
    ['not JSON', c.text],
  ] as const) {
    out = freshOut();
    add(
      `dataset build --scrub-allow ${what}`,
      ['dataset', 'build', '--from', folder, '--model', c.model, '--out', out, '--scrub-allow', p],
      { out },
    );
  }
  for (const [what, p] of [
    ['missing', missing],
    ['a folder', folder],
    ['not JSON', c.text],
  ] as const) {
    out = freshOut();
    add(
      `train --init random --config ${what}`,
      [...train(out), '--model', c.model, '--mode', 'full', '--init', 'random', '--config', p],
      { out },
    );
  }
  return cases;
}

function optionCases(): Case[] {
  const cases: Case[] = [];
  const train = () => {
    const out = freshOut();
    return { out, argv: ['train', '--model', c.model, '--data', c.text, '--out', out, ...TINY_TRAIN] };
  };
  const trainWith = (name: string, extra: string[]) => {
    const t = train();
    cases.push({ name, argv: [...t.argv, ...extra], out: t.out });
  };
  trainWith('train --targets that match no module', ['--targets', 'q_proj,v_proj']);
  trainWith('train --targets empty', ['--targets', '']);
  trainWith('train --mode other', ['--mode', 'qlora']);
  trainWith('train --steps and --epochs', ['--steps', '2', '--epochs', '1']);
  trainWith('train --steps -5', ['--steps', '-5']);
  trainWith('train --seq-len past the context', [
    '--seq-len',
    '64',
    '--batch-tokens',
    '64',
    '--micro-batch-tokens',
    '64',
  ]);
  trainWith('train --batch-tokens not a multiple of --seq-len', ['--batch-tokens', '40']);
  trainWith('train --patience without evaluations', ['--patience', '2', '--eval-every', '0']);
  trainWith('train --adapter with --mode full', ['--mode', 'full', '--adapter', join(c.run, 'adapter')]);
  trainWith('train --init random with LoRA', ['--init', 'random']);
  trainWith('train --init other', ['--init', 'zeros']);
  trainWith('train unknown flag', ['--learning-rate', '1']);
  const score = ['score', '--model', c.model];
  for (const ids of ['', 'abc', '-1', '1e99', 'NaN', '1.5', '1', '1,,2', '99999999'])
    cases.push({ name: `score --ids ${JSON.stringify(ids)}`, argv: [...score, '--ids', ids] });
  cases.push({ name: 'score --text empty', argv: [...score, '--text', ''] });
  cases.push({ name: 'score --text and --ids', argv: [...score, '--text', 'a', '--ids', '1,2'] });
  cases.push({ name: 'score without input', argv: score });
  cases.push({ name: 'score text past the context', argv: [...score, '--text', 'word '.repeat(100)] });
  for (const dtype of ['fp16', 'abc', '']) {
    const out = freshOut();
    cases.push({
      name: `export --dtype ${JSON.stringify(dtype)}`,
      argv: ['export', '--model', c.model, '--out', out, '--dtype', dtype],
      out,
    });
    cases.push({
      name: `generate --dtype ${JSON.stringify(dtype)}`,
      argv: ['generate', '--model', c.model, '--prompt', 'x', '--dtype', dtype],
    });
  }
  cases.push({ name: 'generate --prompt empty', argv: ['generate', '--model', c.model, '--prompt', ''] });
  const buildOut = freshOut();
  for (const split of ['abc', ''])
    cases.push({
      name: `dataset build --split ${JSON.stringify(split)}`,
      argv: [
        'dataset',
        'build',
        '--from',
        join(root, 'workspace'),
        '--model',
        c.model,
        '--out',
        buildOut,
        '--split',
        split,
      ],
      out: buildOut,
    });
  for (const argv of [
    ['fly'],
    ['dataset'],
    ['dataset', 'fly'],
    ['train'],
    ['train', '--model', c.model],
    ['score', '--ids', '1,2'],
    ['export', '--model', c.model],
    ['export', '--out', freshOut()],
    ['generate', '--model', c.model],
    ['eval', '--model', c.model],
    ['dataset', 'build', '--model', c.model, '--out', freshOut()],
    ['dataset', 'show'],
    ['dataset', 'show', c.dataset, c.dataset],
  ])
    cases.push({ name: `usage: ${argv.join(' ').replace(root, '…')}`, argv });
  return cases;
}

/** Every damaged model through every command that loads a model. */
function badModelCases(): Case[] {
  const cases: Case[] = [];
  for (const [what, dir] of Object.entries(c.badModels)) {
    const out1 = freshOut();
    const out2 = freshOut();
    cases.push(
      { name: `score: ${what}`, argv: ['score', '--model', dir, '--ids', '1,2,3'] },
      {
        name: `generate: ${what}`,
        argv: ['generate', '--model', dir, '--prompt', 'def', '--max-tokens', '2'],
      },
      {
        name: `train: ${what}`,
        argv: ['train', '--model', dir, '--data', c.text, '--out', out1, '--steps', '1', ...TINY_TRAIN],
        out: out1,
      },
      { name: `export: ${what}`, argv: ['export', '--model', dir, '--out', out2], out: out2 },
      { name: `eval: ${what}`, argv: ['eval', '--model', dir, '--data', c.dataset, '--spans', '1'] },
      {
        name: `score with an adapter: ${what}`,
        argv: ['score', '--model', dir, '--adapter', join(c.run, 'adapter'), '--ids', '1,2'],
      },
    );
  }
  // Finite weights whose logits overflow: score refuses NaN, export's check of the exported graph refuses.
  const overflowOut = freshOut();
  cases.push(
    { name: 'score: logits overflow', argv: ['score', '--model', c.overflowModel, '--ids', '1,2,3'] },
    {
      name: 'export: logits overflow',
      argv: ['export', '--model', c.overflowModel, '--out', overflowOut],
      out: overflowOut,
    },
  );
  // A tokenizer.json that does not load is not copied into an export.
  const out = freshOut();
  cases.push({
    name: 'export: malformed tokenizer.json',
    argv: ['export', '--model', badTokenizerModel(), '--out', out],
    out,
  });
  return cases;
}

function badDatasetCases(): Case[] {
  const cases: Case[] = [];
  for (const [what, dir] of Object.entries(c.badDatasets)) {
    const out = freshOut();
    cases.push(
      {
        name: `train --data: ${what}`,
        argv: ['train', '--model', c.model, '--data', dir, '--out', out, '--steps', '1', ...TINY_TRAIN],
        out,
      },
      { name: `eval --data: ${what}`, argv: ['eval', '--model', c.model, '--data', dir, '--spans', '1'] },
      { name: `dataset show: ${what}`, argv: ['dataset', 'show', dir] },
    );
  }
  return cases;
}

function emptyFile(): string {
  const p = join(root, 'empty.txt');
  writeFileSync(p, '');
  return p;
}

function binaryFile(): string {
  const p = join(root, 'blob.bin');
  writeFileSync(p, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 31) % 256)));
  return p;
}

function malformedJsonl(): string {
  const p = join(root, 'bad.jsonl');
  writeFileSync(p, readFileSync(c.jsonl, 'utf8') + '{"text": "unterminated\n');
  return p;
}

function badTokenizerModel(): string {
  const dir = join(root, 'model-bad-tokenizer');
  mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'model.safetensors', 'tokenizer_config.json'])
    writeFileSync(join(dir, f), readFileSync(join(c.model, f)));
  writeFileSync(join(dir, 'tokenizer.json'), '{"model": {"type": "BPE", "vocab": 3}}');
  return dir;
}

/** Every file under `path` (or the file) with its bytes, as one string to compare. */
function snapshot(path: string): string {
  if (!statSync(path).isDirectory()) return readFileSync(path, 'base64');
  return readdirSync(path, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((f) => (statSync(join(path, f)).isDirectory() ? f : `${f}:${readFileSync(join(path, f), 'base64')}`))
    .join('\n');
}

/** Runs each case and lists every one that broke a rule (all of them, not just the first). */
async function runCases(cases: Case[]): Promise<void> {
  const broken: string[] = [];
  for (const k of cases) {
    const before = k.untouched ? snapshot(k.untouched) : undefined;
    const r = await cli(...k.argv);
    const why: string[] = [];
    if (r.code !== 2) why.push(`exit ${r.code}`);
    if (r.err.length !== 1) why.push(`${r.err.length} stderr lines`);
    if (r.err.some((l) => /\n|^\s*at |\(node:|internal error/.test(l)))
      why.push('a stack trace or internal error');
    if (k.out && existsSync(k.out)) why.push(`${k.out} was written`);
    if (k.out && existsSync(lockFileOf(k.out))) why.push('its lock was left');
    if (k.untouched && snapshot(k.untouched) !== before) why.push(`${k.untouched} changed`);
    if (why.length) broken.push(`${k.name}: ${why.join(', ')} — ${r.err.join(' | ').slice(0, 300)}`);
  }
  assert.deepEqual(broken, [], `\n${broken.join('\n')}`);
}

const all: Case[] = [];

const GROUPS: [string, () => Case[]][] = [
  [
    'numeric flags of every command refuse 0, -1, NaN, 1e99, "abc" and "" where those are invalid',
    numericCases,
  ],
  [
    'path flags given something missing, a file for a folder, a folder for a file, another model’s adapter or run',
    pathCases,
  ],
  ['options that contradict each other or the model, and usage errors', optionCases],
  ['damaged model folders in every command that loads a model', badModelCases],
  ['damaged datasets in every command that reads one', badDatasetCases],
];

for (const [name, make] of GROUPS)
  test(name, { timeout: 600_000 }, async () => {
    const cases = make();
    all.push(...cases);
    await runCases(cases);
  });

test('the corpus holds at least 300 bad inputs', () => {
  assert.ok(all.length >= 300, `${all.length} cases`);
  console.log(`# ${all.length} bad inputs`);
});
