// Our forward pass against an independent transcription of transformers' modeling code in PyTorch
// (hf_reference.py), for each family: RoPE convention, GQA head order, biases, the fused
// multi-query c_attn, GPT-2's fused q/k/v split and Conv1D layout (prefixed as save_pretrained
// writes it, and the official file's bare names with its mask buffers). The GPT-2 transcription is
// itself checked against a second implementation built from PyTorch's own modules. Needs Debian's
// python3-torch (docs/peers.md): skipped with a loud line where it is missing, a failure in CI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hubModel, writeHubModel } from '../../../fixtures/hubModels';
import { writeGptBigCodeModel } from '../../../fixtures/tinyBigCode';
import { writeGpt2Model } from '../../../fixtures/tinyModel';
import { writeLlamaModel, type LlamaShape } from '../../../fixtures/tinyLlama';
import { loadModel } from '../../../src/engine/models';
import { scoreIds } from '../../../src/engine/train/score';
import { PYTHON, TORCH_ENV, torchSkip } from '../../helpers/torchReference';

const noTorch = torchSkip();
const REFERENCE = join(__dirname, 'hf_reference.py');
const SECOND_GPT2 = join(__dirname, 'gpt2_torch_modules.py');

const SHAPE: LlamaShape = {
  nLayer: 2,
  nHead: 4,
  nKvHead: 2,
  hidden: 32,
  intermediate: 48,
  maxPositions: 32,
  vocabSize: 16,
};
const IDS = [1, 5, 9, 2, 14, 3, 3, 7, 0, 11, 6, 12, 4, 4, 8, 10, 13, 15, 2, 9];

const GPT2_SHAPE = { nLayer: 2, nHead: 4, nEmbd: 32, nPositions: 32, vocabSize: 16 };

const CASES: [string, (dir: string) => void | Promise<void>][] = [
  [
    'gpt2: prefixed names (save_pretrained), fused c_attn, Conv1D, tied head',
    (d) => writeGpt2Model(d, GPT2_SHAPE, 2, { embeddingStd: 0.5 }),
  ],
  [
    'gpt2: the official layout (no transformer. prefix, h.N.attn.bias mask buffers)',
    (d) => writeHubModel(d, hubModel('openai-community/gpt2'), 2),
  ],
  [
    'llama: GQA 4/2, untied head, rope_scaling llama3',
    (d) =>
      writeLlamaModel(d, SHAPE, 3, {
        embeddingStd: 0.5,
        initStd: 0.2,
        ropeScaling: {
          rope_type: 'llama3',
          factor: 8,
          low_freq_factor: 1,
          high_freq_factor: 4,
          original_max_position_embeddings: 16,
        },
      }),
  ],
  [
    'llama: multi-query 4/1, tied head, head_dim set, linear rope_scaling, rope_theta 100',
    (d) =>
      writeLlamaModel(d, { ...SHAPE, nKvHead: 1, headDim: 6 }, 4, {
        embeddingStd: 0.5,
        initStd: 0.2,
        tieEmbeddings: true,
        ropeTheta: 100,
        ropeScaling: { type: 'linear', factor: 2 },
      }),
  ],
  [
    'qwen2: q/k/v biases, tied head, rope_theta 50',
    (d) =>
      writeLlamaModel(d, SHAPE, 5, {
        modelType: 'qwen2',
        embeddingStd: 0.5,
        initStd: 0.2,
        ropeTheta: 50,
        extraSpecialTokens: [],
      }),
  ],
  [
    'gpt_bigcode: fused multi-query c_attn, learned positions',
    (d) =>
      writeGptBigCodeModel(d, { nLayer: 2, nHead: 4, nEmbd: 32, nPositions: 32, vocabSize: 16 }, 6, {
        embeddingStd: 0.5,
        extraSpecialTokens: [],
      }),
  ],
];

for (const [name, write] of CASES) {
  test(`matches transformers' forward pass (PyTorch transcription): ${name}`, { skip: noTorch }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lt-parity-'));
    await write(dir);
    const ours = await scoreIds(loadModel(dir), IDS, { threads: 1 });
    const out = execFileSync(PYTHON, [REFERENCE, dir, JSON.stringify(IDS)], { env: TORCH_ENV }).toString();
    const reference = JSON.parse(out) as number[];
    assert.equal(ours.length, reference.length);
    for (let i = 0; i < ours.length; i++)
      assert.ok(
        Math.abs(ours[i] - reference[i]) <= 1e-5 * Math.max(1, Math.abs(reference[i])),
        `logprob ${i}: ours ${ours[i]}, reference ${reference[i]}`,
      );
  });
}

test(
  'the GPT-2 transcription agrees with a second GPT-2 built from torch.nn modules',
  { skip: noTorch },
  async () => {
    for (const write of [CASES[0][1], CASES[1][1]]) {
      const dir = mkdtempSync(join(tmpdir(), 'lt-parity-'));
      await write(dir);
      const run = (script: string) =>
        JSON.parse(execFileSync(PYTHON, [script, dir, JSON.stringify(IDS)], { env: TORCH_ENV }).toString()) as number[];
      const [a, b] = [run(REFERENCE), run(SECOND_GPT2)];
      assert.equal(a.length, IDS.length - 1);
      for (let i = 0; i < a.length; i++)
        assert.ok(Math.abs(a[i] - b[i]) <= 1e-5, `logprob ${i}: ${a[i]} vs ${b[i]}`);
    }
  },
);
