/**
 * A GGUF (v3) writer for the llama.cpp peer: a GPT-2 or Llama model folder (config.json,
 * tokenizer.json, model.safetensors as transformers saves it) → one .gguf file in f32 or q8_0, from
 * the same weights our engine runs. Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
 * — header, KV metadata (the architecture and its byte-level BPE tokenizer: tokens, token types,
 * merges), tensor infos (dims innermost first), then the data, each tensor aligned to 32 bytes.
 * q8_0: blocks of 32 values, an f16 scale d = max|x|/127 then 32 int8 q = round(x/d) (34 bytes).
 * GPT-2's Conv1D weights ([in, out] in HF) are written [out][in] (ggml's ne = [in, out]); Llama's
 * q/k rows are permuted for GGUF's RoPE pairing. A tied LM head has no output.weight (llama.cpp
 * reuses token_embd).
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { bfloat16BitsToFloat32 } from '../../src/engine/formats/safetensors';
import { transpose2d } from '../../src/engine/models/layout';

const ALIGN = 32;
enum GType {
  U32 = 4,
  I32 = 5,
  F32 = 6,
  STRING = 8,
  ARRAY = 9,
}
enum TType {
  F32 = 0,
  Q8_0 = 8,
}

function readSafetensors(file: string): Map<string, { shape: number[]; data: Float32Array }> {
  const buf = readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (t.dtype !== 'F32' && t.dtype !== 'BF16')
      throw new Error(`${name}: ${t.dtype}, only F32 and BF16 are supported`);
    const [a, b] = t.data_offsets;
    const bytes = buf.buffer.slice(buf.byteOffset + 8 + n + a, buf.byteOffset + 8 + n + b);
    out.set(name, {
      shape: t.shape,
      data: t.dtype === 'F32' ? new Float32Array(bytes) : bfloat16BitsToFloat32(new Uint16Array(bytes)),
    });
  }
  return out;
}

function f16(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  let mant = u & 0x7fffff;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant = (mant | 0x800000) >>> (1 - exp);
    return sign | ((mant + 0x1000) >>> 13);
  }
  if (exp >= 31) return sign | 0x7c00;
  const r = sign | (exp << 10) | (mant >>> 13);
  return mant & 0x1000 ? r + 1 : r; // round half up (carry into the exponent is correct)
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** q8_0 blocks for rows of `rowLen` (a multiple of 32). */
export function quantizeQ8_0(x: Float32Array): Uint8Array {
  if (x.length % 32) throw new Error('q8_0 needs a multiple of 32 values');
  const out = new Uint8Array((x.length / 32) * 34);
  const view = new DataView(out.buffer);
  for (let b = 0; b < x.length / 32; b++) {
    let max = 0;
    for (let i = 0; i < 32; i++) max = Math.max(max, Math.abs(x[b * 32 + i]));
    const dh = f16(max / 127);
    const d = halfToFloat(dh); // ggml quantizes with the f32 d and stores f16; the difference is below int8's step
    view.setUint16(b * 34, dh, true);
    const id = d ? 1 / d : 0;
    for (let i = 0; i < 32; i++)
      view.setInt8(b * 34 + 2 + i, Math.max(-127, Math.min(127, Math.round(x[b * 32 + i] * id))));
  }
  return out;
}

class Bytes {
  parts: Buffer[] = [];
  length = 0;
  push(b: Buffer): void {
    this.parts.push(b);
    this.length += b.length;
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  i32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    this.push(b);
  }
  u64(v: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  f32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.push(b);
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.push(b);
  }
}

type Value =
  | { t: 'u32' | 'i32' | 'f32' | 'str'; v: number | string }
  | { t: 'arr'; of: 'str' | 'i32'; v: (string | number)[] };

type Tensor = { shape: number[]; data: Float32Array };
type Kv = [string, Value][];

/** The tokenizer's KV entries from the folder's tokenizer.json (BPE, byte-level, as 'gpt2'). */
function tokenizerKv(modelDir: string, V: number, pre: string, bos: number, eos: number): Kv {
  const tok = JSON.parse(readFileSync(join(modelDir, 'tokenizer.json'), 'utf8')) as {
    model: { vocab: Record<string, number>; merges: (string | [string, string])[] };
    added_tokens: { id: number; content: string; special: boolean }[];
  };
  const tokens: string[] = new Array<string>(V).fill('');
  const types: number[] = new Array<number>(V).fill(1);
  for (const [s, id] of Object.entries(tok.model.vocab)) if (id < V) tokens[id] = s;
  for (const a of tok.added_tokens)
    if (a.id < V) {
      tokens[a.id] = a.content;
      types[a.id] = a.special ? 3 : 4;
    }
  for (let i = 0; i < V; i++)
    if (!tokens[i]) {
      tokens[i] = `[PAD${i}]`;
      types[i] = 5;
    }
  const merges = tok.model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m));
  return [
    ['tokenizer.ggml.model', { t: 'str', v: 'gpt2' }],
    ['tokenizer.ggml.pre', { t: 'str', v: pre }],
    ['tokenizer.ggml.tokens', { t: 'arr', of: 'str', v: tokens }],
    ['tokenizer.ggml.token_type', { t: 'arr', of: 'i32', v: types }],
    ['tokenizer.ggml.merges', { t: 'arr', of: 'str', v: merges }],
    ['tokenizer.ggml.bos_token_id', { t: 'u32', v: bos }],
    ['tokenizer.ggml.eos_token_id', { t: 'u32', v: eos }],
  ];
}

/** The tensors of one file, in order; `quant` marks the matrices q8_0 stores (when rows allow). */
class TensorList {
  readonly items: { name: string; ne: number[]; data: Float32Array; quant: boolean }[] = [];
  constructor(private readonly type: 'f32' | 'q8_0') {}
  add(name: string, t: Tensor, quant = false): void {
    const ne = [...t.shape].reverse();
    // q8_0 blocks run along a row; rows that are not whole blocks stay f32 (as convert_hf_to_gguf does).
    this.items.push({ name, ne, data: t.data, quant: quant && this.type === 'q8_0' && ne[0] % 32 === 0 });
  }
}

/** Header, KV metadata, tensor infos, then the data (each tensor aligned to 32 bytes). */
function writeGguf(outFile: string, kv: Kv, tensors: TensorList['items']): void {
  const head = new Bytes();
  head.push(Buffer.from('GGUF', 'ascii'));
  head.u32(3);
  head.u64(tensors.length);
  head.u64(kv.length);
  for (const [key, val] of kv) {
    head.str(key);
    if (val.t === 'arr') {
      head.u32(GType.ARRAY);
      head.u32(val.of === 'str' ? GType.STRING : GType.I32);
      head.u64(val.v.length);
      for (const x of val.v)
        if (val.of === 'str') head.str(x as string);
        else head.i32(x as number);
    } else if (val.t === 'str') {
      head.u32(GType.STRING);
      head.str(val.v as string);
    } else if (val.t === 'u32') {
      head.u32(GType.U32);
      head.u32(val.v as number);
    } else if (val.t === 'i32') {
      head.u32(GType.I32);
      head.i32(val.v as number);
    } else {
      head.u32(GType.F32);
      head.f32(val.v as number);
    }
  }
  const blobs: Buffer[] = [];
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.quant
      ? quantizeQ8_0(t.data)
      : new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    head.str(t.name);
    head.u32(t.ne.length);
    for (const d of t.ne) head.u64(d);
    head.u32(t.quant ? TType.Q8_0 : TType.F32);
    head.u64(offset);
    const pad = (ALIGN - (bytes.length % ALIGN)) % ALIGN;
    blobs.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), Buffer.alloc(pad));
    offset += bytes.length + pad;
  }
  head.push(Buffer.alloc((ALIGN - (head.length % ALIGN)) % ALIGN));
  const fd = openSync(outFile, 'w');
  try {
    for (const b of [...head.parts, ...blobs]) writeSync(fd, b);
  } finally {
    closeSync(fd);
  }
}

const fileType = (type: 'f32' | 'q8_0'): Value => ({ t: 'u32', v: type === 'f32' ? 0 : 7 });

function weightsOf(modelDir: string, prefix: string): (name: string) => Tensor {
  const st = readSafetensors(join(modelDir, 'model.safetensors'));
  return (n) => {
    const t = st.get(n) ?? st.get(`${prefix}${n}`);
    if (!t) throw new Error(`${n}: not in model.safetensors`);
    return t;
  };
}

export function writeGpt2Gguf(modelDir: string, outFile: string, type: 'f32' | 'q8_0'): void {
  const cfg = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')) as Record<string, number>;
  const eos = 50256;
  const kv: Kv = [
    ['general.architecture', { t: 'str', v: 'gpt2' }],
    ['general.name', { t: 'str', v: 'localtune-bench' }],
    ['general.file_type', fileType(type)],
    ['gpt2.context_length', { t: 'u32', v: cfg.n_positions }],
    ['gpt2.embedding_length', { t: 'u32', v: cfg.n_embd }],
    ['gpt2.feed_forward_length', { t: 'u32', v: 4 * cfg.n_embd }],
    ['gpt2.block_count', { t: 'u32', v: cfg.n_layer }],
    ['gpt2.attention.head_count', { t: 'u32', v: cfg.n_head }],
    ['gpt2.attention.layer_norm_epsilon', { t: 'f32', v: cfg.layer_norm_epsilon ?? 1e-5 }],
    ...tokenizerKv(modelDir, cfg.vocab_size, 'gpt-2', eos, eos),
  ];
  const get = weightsOf(modelDir, 'transformer.');
  // [rows, cols] row-major → [cols, rows] row-major.
  const transpose = (t: Tensor) => ({
    shape: [t.shape[1], t.shape[0]],
    data: transpose2d(t.data, t.shape[0], t.shape[1]),
  });
  const t = new TensorList(type);
  // A GGUF weight and bias from HF's: norms as they are, Conv1D weights transposed and quantized.
  const norm = (to: string, from: string) => {
    t.add(`${to}.weight`, get(`${from}.weight`));
    t.add(`${to}.bias`, get(`${from}.bias`));
  };
  const conv1d = (to: string, from: string) => {
    t.add(`${to}.weight`, transpose(get(`${from}.weight`)), true);
    t.add(`${to}.bias`, get(`${from}.bias`));
  };
  t.add('token_embd.weight', get('wte.weight'), true);
  t.add('position_embd.weight', get('wpe.weight'));
  norm('output_norm', 'ln_f');
  for (let i = 0; i < cfg.n_layer; i++) {
    const h = `h.${i}`;
    norm(`blk.${i}.attn_norm`, `${h}.ln_1`);
    conv1d(`blk.${i}.attn_qkv`, `${h}.attn.c_attn`);
    conv1d(`blk.${i}.attn_output`, `${h}.attn.c_proj`);
    norm(`blk.${i}.ffn_norm`, `${h}.ln_2`);
    conv1d(`blk.${i}.ffn_up`, `${h}.mlp.c_fc`);
    conv1d(`blk.${i}.ffn_down`, `${h}.mlp.c_proj`);
  }
  writeGguf(outFile, kv, t.items);
}

/**
 * HF's Llama rotates halves of each head (dims j and j + D/2 form a pair); GGUF's llama rotates
 * adjacent pairs (2j, 2j + 1). convert_hf_to_gguf.py's LlamaModel.permute reorders the rows of
 * q_proj (per query head) and k_proj (per key/value head) so that: within each head of D rows,
 * new row 2j + s = old row s·D/2 + j (reshape(heads, 2, D/2, in).swapaxes(1, 2)).
 */
export function permuteRotaryRows(t: Tensor, heads: number): Tensor {
  const [rows, cols] = t.shape;
  const D = rows / heads;
  const half = D / 2;
  const o = new Float32Array(t.data.length);
  for (let h = 0; h < heads; h++)
    for (let j = 0; j < half; j++)
      for (let s = 0; s < 2; s++) {
        const from = (h * D + s * half + j) * cols;
        o.set(t.data.subarray(from, from + cols), (h * D + 2 * j + s) * cols);
      }
  return { shape: t.shape, data: o };
}

/**
 * A Llama model folder (SmolLM2's layout: nn.Linear [out, in] weights, tied embeddings, a
 * byte-level BPE tokenizer.json) → GGUF with the `llama` architecture. nn.Linear's [out, in] is
 * already ggml's ne = [in, out]; q/k rows are permuted for GGUF's RoPE (permuteRotaryRows).
 */
export function writeLlamaGguf(modelDir: string, outFile: string, type: 'f32' | 'q8_0'): void {
  const cfg = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const n = (k: string) => cfg[k] as number;
  const H = n('num_attention_heads');
  const KV = n('num_key_value_heads') ?? H;
  const D = (cfg.head_dim as number | undefined) ?? n('hidden_size') / H;
  if (cfg.rope_scaling) throw new Error('writeLlamaGguf: rope_scaling is not written');
  const eos = typeof cfg.eos_token_id === 'number' ? cfg.eos_token_id : 0;
  const bos = typeof cfg.bos_token_id === 'number' ? cfg.bos_token_id : eos;
  const kv: Kv = [
    ['general.architecture', { t: 'str', v: 'llama' }],
    ['general.name', { t: 'str', v: 'localtune-bench' }],
    ['general.file_type', fileType(type)],
    ['llama.vocab_size', { t: 'u32', v: n('vocab_size') }],
    ['llama.context_length', { t: 'u32', v: n('max_position_embeddings') }],
    ['llama.embedding_length', { t: 'u32', v: n('hidden_size') }],
    ['llama.block_count', { t: 'u32', v: n('num_hidden_layers') }],
    ['llama.feed_forward_length', { t: 'u32', v: n('intermediate_size') }],
    ['llama.attention.head_count', { t: 'u32', v: H }],
    ['llama.attention.head_count_kv', { t: 'u32', v: KV }],
    ['llama.attention.key_length', { t: 'u32', v: D }],
    ['llama.attention.value_length', { t: 'u32', v: D }],
    ['llama.rope.freq_base', { t: 'f32', v: n('rope_theta') ?? 10000 }],
    ['llama.rope.dimension_count', { t: 'u32', v: D }],
    ['llama.attention.layer_norm_rms_epsilon', { t: 'f32', v: n('rms_norm_eps') ?? 1e-6 }],
    ...tokenizerKv(modelDir, n('vocab_size'), 'smollm', bos, eos),
  ];
  const get = weightsOf(modelDir, 'model.');
  const t = new TensorList(type);
  t.add('token_embd.weight', get('embed_tokens.weight'), true);
  for (let i = 0; i < n('num_hidden_layers'); i++) {
    const l = `layers.${i}`;
    t.add(`blk.${i}.attn_norm.weight`, get(`${l}.input_layernorm.weight`));
    t.add(`blk.${i}.attn_q.weight`, permuteRotaryRows(get(`${l}.self_attn.q_proj.weight`), H), true);
    t.add(`blk.${i}.attn_k.weight`, permuteRotaryRows(get(`${l}.self_attn.k_proj.weight`), KV), true);
    t.add(`blk.${i}.attn_v.weight`, get(`${l}.self_attn.v_proj.weight`), true);
    t.add(`blk.${i}.attn_output.weight`, get(`${l}.self_attn.o_proj.weight`), true);
    t.add(`blk.${i}.ffn_norm.weight`, get(`${l}.post_attention_layernorm.weight`));
    t.add(`blk.${i}.ffn_gate.weight`, get(`${l}.mlp.gate_proj.weight`), true);
    t.add(`blk.${i}.ffn_up.weight`, get(`${l}.mlp.up_proj.weight`), true);
    t.add(`blk.${i}.ffn_down.weight`, get(`${l}.mlp.down_proj.weight`), true);
  }
  t.add('output_norm.weight', get('norm.weight'));
  if (cfg.tie_word_embeddings !== true) t.add('output.weight', get('lm_head.weight'), true);
  writeGguf(outFile, kv, t.items);
}
