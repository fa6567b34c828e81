// Every key LocalTune writes into an engine's config is one the engine declares, checked against
// the field lists recorded from its source (fixtures/handoff/SOURCES.md): a renamed or misspelled
// key fails here, not on the user's cluster. Each plan variant turns on a different set of keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { axolotlYaml } from '../../../src/jobs/handoff/axolotl';
import type { JobDataFiles } from '../../../src/jobs/handoff/dataFiles';
import type { HandoffPlan } from '../../../src/jobs/handoff/plan';
import { trlScript } from '../../../src/jobs/handoff/trl';
import { ENGINE_VERSIONS } from '../../../src/jobs/handoff/versions';
import { PYTHON } from '../../helpers/torchReference';

const FIXTURES = join(__dirname, '../../../fixtures/handoff');
const fields = (file: string) => {
  const list = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as {
    version: string;
    fields: string[];
  };
  return { version: list.version, fields: new Set(list.fields) };
};
const AXOLOTL = fields(`axolotl-${ENGINE_VERSIONS.axolotl}-fields.json`);
const AXOLOTL_DATASET = fields(`axolotl-${ENGINE_VERSIONS.axolotl}-dataset-fields.json`);
const AXOLOTL_TOKENS = fields(`axolotl-${ENGINE_VERSIONS.axolotl}-special-tokens-fields.json`);
const SFT = fields(`trl-${ENGINE_VERSIONS.trl}-sftconfig-fields.json`);
const LORA = fields(`peft-${ENGINE_VERSIONS.peft}-loraconfig-fields.json`);

const BASE: HandoffPlan = {
  baseModel: 'Qwen/Qwen2.5-Coder-0.5B',
  mode: 'lora',
  lora: { r: 8, alpha: 16, dropout: 0.05, targets: ['q_proj', 'v_proj'], rslora: false },
  seqLen: 256,
  microBatchSize: 4,
  gradientAccumulation: 2,
  steps: 100,
  epochs: null,
  lr: 2e-4,
  warmupSteps: 10,
  minLrRatio: 0.1,
  weightDecay: 0,
  clipNorm: 1,
  evalEvery: 25,
  checkpointEvery: 100,
  patience: 3,
  keepBest: true,
  seed: 0,
  eosToken: '<|endoftext|>',
  fimTokens: ['<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>'],
};
const ALL_FILES: JobDataFiles = {
  train: { text: 'data/train.jsonl', segments: 'data/train.segments.jsonl' },
  validation: { text: 'data/validation.jsonl', segments: 'data/validation.segments.jsonl' },
};
const VARIANTS: [string, HandoffPlan, JobDataFiles][] = [
  ['LoRA, steps, validation, early stopping', BASE, ALL_FILES],
  [
    'full fine-tune, epochs, no validation, no checkpoints',
    { ...BASE, mode: 'full', epochs: 2, evalEvery: 0, checkpointEvery: 0, patience: 0, keepBest: false },
    { train: { text: 'data/train.jsonl', segments: null }, validation: null },
  ],
  [
    'rsLoRA, validation without evaluations',
    {
      ...BASE,
      lora: { ...BASE.lora, rslora: true },
      evalEvery: 0,
      patience: 0,
      keepBest: false,
      fimTokens: [],
    },
    { ...ALL_FILES, validation: { text: null, segments: 'data/validation.segments.jsonl' } },
  ],
];

function unknown(keys: string[], declared: Set<string>): string[] {
  return keys.filter((k) => !declared.has(k));
}

for (const [name, plan, files] of VARIANTS) {
  test(`axolotl ${AXOLOTL.version} job.yml declares every key: ${name}`, () => {
    const config = parse(axolotlYaml(plan, files)) as Record<string, unknown>;
    assert.deepEqual(unknown(Object.keys(config), AXOLOTL.fields), []);
    const entries = [
      ...(config.datasets as object[]),
      ...((config.test_datasets as object[] | undefined) ?? []),
    ];
    assert.ok(entries.length > 0);
    for (const entry of entries) assert.deepEqual(unknown(Object.keys(entry), AXOLOTL_DATASET.fields), []);
    assert.deepEqual(unknown(Object.keys(config.special_tokens as object), AXOLOTL_TOKENS.fields), []);
    // The settings carried, not only the names.
    assert.equal(config.sequence_len, plan.seqLen);
    assert.equal(config.micro_batch_size, plan.microBatchSize);
    assert.equal(config.adapter, plan.mode === 'lora' ? 'lora' : undefined);
    assert.equal(plan.epochs === null ? config.max_steps : config.num_epochs, plan.epochs ?? plan.steps);
  });

  test(`trl ${SFT.version} train.py passes only declared SFTConfig / LoraConfig arguments: ${name}`, () => {
    const script = join(mkdtempSync(join(tmpdir(), 'lt-trl-')), 'train.py');
    writeFileSync(script, trlScript(plan, files));
    // Python reads the written script: its dict literals and the keywords of the two calls.
    const found = JSON.parse(execFileSync(PYTHON, ['-c', KEYWORDS, script], { encoding: 'utf8' })) as {
      sft: string[];
      lora: string[] | null;
      sftCall: string[];
      loraCall: string[];
    };
    assert.deepEqual(unknown([...found.sft, ...found.sftCall], SFT.fields), []);
    assert.equal(found.lora === null, plan.mode === 'full');
    assert.deepEqual(unknown([...(found.lora ?? []), ...found.loraCall], LORA.fields), []);
    assert.ok(found.sft.includes('max_length') && found.sft.includes('learning_rate'));
  });
}

/** Prints the keys of SFT_ARGS / LORA_ARGS and the other keywords SFTConfig(...) / LoraConfig(...) get. */
const KEYWORDS = `
import ast, json, sys
tree = ast.parse(open(sys.argv[1]).read())
values, calls = {}, {"SFTConfig": [], "LoraConfig": []}
for node in ast.walk(tree):
    if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
        values[node.targets[0].id] = node.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in calls:
        calls[node.func.id] += [k.arg for k in node.keywords if k.arg]
lora = ast.literal_eval(values["LORA_ARGS"])
print(json.dumps({"sft": list(ast.literal_eval(values["SFT_ARGS"])), "lora": list(lora) if lora else None,
                  "sftCall": calls["SFTConfig"], "loraCall": calls["LoraConfig"]}))
`;
