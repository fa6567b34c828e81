/**
 * The model shapes bench/train.ts trains, each with its family: how to write a random model of it
 * (fixtures/), the PyTorch peer's arguments, its default LoRA targets, and its training FLOPs per
 * token — the peers' formula (bench/peers/train_*.py), so GFLOP/s compare like for like:
 * W = 2·(weight-matmul params) per token forward incl. the tied head (2·d·V), A = 4·seq·d per layer;
 * full: 3·(W + A); lora: 2·W + 3·A + 3·(2·r·(in+out) per adapted module).
 */
import { existsSync, readFileSync } from 'node:fs';
import { GPT2_SMALL, TINY_GPT2, writeGpt2Model, type Gpt2Shape } from '../fixtures/tinyModel';
import { writeLlamaModel, type LlamaShape } from '../fixtures/tinyLlama';

export interface BenchShape {
  name: string;
  family: 'gpt2' | 'llama';
  layers: number;
  heads: number;
  d: number;
  vocab: number;
  ctx: number;
  /** The LoRA target sets the benchmark trains, each one config (the first: the family's default). */
  loraTargetSets: string[][];
  write(dir: string): Promise<void>;
  peerArgs(): string[];
  /** [in, out] of each weight matrix of one layer, by module name. */
  modules: Record<string, [number, number]>;
}

const GPT2_VOCAB = 50257;

function gpt2(name: string, s: Gpt2Shape): BenchShape {
  const d = s.nEmbd;
  return {
    name,
    family: 'gpt2',
    layers: s.nLayer,
    heads: s.nHead,
    d,
    vocab: GPT2_VOCAB,
    ctx: s.nPositions,
    // Attention only (PEFT's GPT-2 default) and every linear layer of the blocks.
    loraTargetSets: [['c_attn'], ['c_attn', 'c_proj', 'c_fc']],
    write: (dir) => writeGpt2Model(dir, s, 0),
    peerArgs: () => [
      '--layers',
      `${s.nLayer}`,
      '--heads',
      `${s.nHead}`,
      '--d',
      `${d}`,
      '--ctx',
      `${s.nPositions}`,
      '--vocab',
      `${GPT2_VOCAB}`,
    ],
    // c_proj is two modules in GPT-2 (attention and MLP); both match the target name.
    modules: { c_attn: [d, 3 * d], 'attn.c_proj': [d, d], c_fc: [d, 4 * d], 'mlp.c_proj': [4 * d, d] },
  };
}

function llama(
  name: string,
  s: Required<Pick<LlamaShape, 'vocabSize'>> & LlamaShape,
  ropeTheta: number,
): BenchShape {
  const d = s.hidden;
  const kv = s.nKvHead * (d / s.nHead);
  const f = s.intermediate;
  return {
    name,
    family: 'llama',
    layers: s.nLayer,
    heads: s.nHead,
    d,
    vocab: s.vocabSize,
    ctx: s.maxPositions,
    loraTargetSets: [['q_proj', 'v_proj']],
    write: async (dir) => writeLlamaModel(dir, s, 0, { tieEmbeddings: true, ropeTheta }),
    peerArgs: () => [
      '--family',
      'llama',
      '--layers',
      `${s.nLayer}`,
      '--heads',
      `${s.nHead}`,
      '--kv-heads',
      `${s.nKvHead}`,
      '--d',
      `${d}`,
      '--ff',
      `${f}`,
      '--ctx',
      `${s.maxPositions}`,
      '--vocab',
      `${s.vocabSize}`,
      '--rope-theta',
      `${ropeTheta}`,
    ],
    modules: {
      q_proj: [d, d],
      k_proj: [d, kv],
      v_proj: [d, kv],
      o_proj: [d, d],
      gate_proj: [d, f],
      up_proj: [d, f],
      down_proj: [f, d],
    },
  };
}

export const BENCH_SHAPES: Record<string, BenchShape> = {
  'gpt2-small': gpt2('gpt2-small', GPT2_SMALL),
  tiny: gpt2('tiny', TINY_GPT2),
  // HuggingFaceTB/SmolLM2-135M's shape (its config.json): 30 layers, d 576, 9 heads / 3 KV heads.
  'smollm2-135m': llama(
    'smollm2-135m',
    {
      nLayer: 30,
      nHead: 9,
      nKvHead: 3,
      hidden: 576,
      intermediate: 1536,
      maxPositions: 2048,
      vocabSize: 49152,
    },
    100000,
  ),
  'tiny-llama': llama(
    'tiny-llama',
    { nLayer: 2, nHead: 4, nKvHead: 2, hidden: 64, intermediate: 160, maxPositions: 256, vocabSize: 49152 },
    10000,
  ),
};

/** Whether LoRA `targets` adapt module `name`: by name or dotted suffix, as PEFT and the peers match. */
export function isTarget(name: string, targets: readonly string[]): boolean {
  return targets.some((t) => name === t || name.endsWith(`.${t}`));
}

/** Training FLOPs per token for `targets` (module names, matched as the peers and PEFT do: by suffix). */
export function flopsPerToken(
  s: BenchShape,
  seq: number,
  mode: 'lora' | 'full',
  r: number,
  targets: readonly string[],
): number {
  const matmul = Object.values(s.modules).reduce((a, [i, o]) => a + i * o, 0);
  const weights = s.layers * 2 * matmul + 2 * s.d * s.vocab;
  const attn = s.layers * 4 * seq * s.d;
  if (mode === 'full') return 3 * (weights + attn);
  const adapted = Object.entries(s.modules).filter(([name]) => isTarget(name, targets));
  const lora = s.layers * adapted.reduce((a, [, [i, o]]) => a + 2 * r * (i + o), 0);
  return 2 * weights + 3 * attn + 3 * lora;
}

/** /proc/cpuinfo, or '' where there is none. */
export const CPUINFO = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';

/**
 * The CPU's model and the ISA extensions that decide which kernels run (fp32, int8 VNNI, bf16, AMX).
 * A VM's model name is often bare ("AMD EPYC"): vendor, family and model number tell its
 * generation apart (docs/peers.md names the ones the figures came from).
 */
export function cpuIsa(cpuinfo: string): { model: string; id: string | null; flags: string[] } {
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.+)$`, 'm').exec(cpuinfo)?.[1].trim();
  const model = field('model name') ?? 'unknown';
  const [vendor, family, number] = [field('vendor_id'), field('cpu family'), field('model')];
  const id = vendor && family && number ? `${vendor} family ${family} model ${number}` : null;
  const all = new Set((field('flags') ?? '').split(/\s+/));
  const wanted = [
    'avx2',
    'fma',
    'avx512f',
    'avx512bw',
    'avx512_vnni',
    'avx512_bf16',
    'avx_vnni',
    'amx_tile',
    'amx_bf16',
    'amx_int8',
  ];
  return { model, id, flags: wanted.filter((f) => all.has(f)) };
}
