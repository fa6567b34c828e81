/**
 * KV-cached decoding on an inference graph (built in memory or loaded from an exported folder).
 * One Decoder serves one model: requests run one at a time, and the KV cache of the previous
 * request is kept as a prompt cache, so a prompt that shares a prefix with it (the editor's text
 * after one more keystroke) only prefills the tokens after the longest common prefix.
 * Generation stops at an end-of-sequence token, after `maxTokens`, at the model's context length,
 * or when `signal` aborts (checked between tokens).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { OptionError, UserError } from '../errors';
import type { Adapter } from '../formats/peft';
import type { LoadedModel } from '../models';
import { kvNames, kvNewNames, type KvLayout } from '../models/common';
import { createSession, toOrt } from '../onnx/session';
import { Rng } from '../rng';
import { buildInferenceGraph } from './inferenceGraph';
import { quantizeGraphInt8, type QuantizeOptions } from './quantize';
import { sampleToken, type SamplingOptions } from './sampling';

export interface DecoderInfo {
  layout: KvLayout;
  vocabSize: number;
  contextLength: number;
  /** Token ids that end generation (from generation_config.json / config.json). */
  eosIds: number[];
  /** The FIM prompt layout the model was trained to answer best (config.json `fim_layout`; default psm). */
  fimLayout: 'psm' | 'spm';
}

export interface GenerateOptions extends SamplingOptions {
  /** New tokens at most (default 64). */
  maxTokens?: number;
  /** Seeds sampling (ignored when greedy); a fixed seed reproduces a run. */
  seed?: number;
  /** More token ids that stop generation (not included in the result). */
  stopIds?: readonly number[];
  signal?: AbortSignal;
  /** Called with each new token as soon as it is chosen. */
  onToken?: (id: number) => void;
  /** Called with the logits [V] each token was chosen from (tests, confidence). */
  onLogits?: (logits: Float32Array) => void;
  /** Reuse the previous request's KV cache for a shared prefix (default true). */
  promptCache?: boolean;
  /** false: recompute the whole sequence every step, no KV cache (a reference for tests). */
  kvCache?: boolean;
}

export type StopReason = 'eos' | 'max_tokens' | 'context' | 'aborted';

export interface GenerateResult {
  tokens: number[];
  stop: StopReason;
  promptTokens: number;
  /** Prompt tokens whose keys and values came from the prompt cache. */
  reusedTokens: number;
  /** Milliseconds from the call to the first new token (NaN when none). */
  firstTokenMs: number;
  /** New tokens per second after the first. */
  decodeTokensPerSecond: number;
}

type Past = Record<string, OrtTensor>;

/**
 * The KV cache in the decoder's own buffers, for a graph with `new.*` outputs: one buffer per cache
 * tensor, [KV, stride, D] (per-head layouts: the first `length` of `stride` positions of each head
 * are valid) or [stride, 2D] (fused, position-major). A step feeds the buffers as they are as the
 * past — per-head: all `stride` positions, the unused ones masked out by attention_mask — and copies
 * the T new positions the graph returns into place: no step copies the whole cache.
 */
interface KvStore {
  bufs: Float32Array[];
  stride: number;
}

export class Decoder {
  /** The tokens whose keys and values `past` (or the store) holds (what the previous request fed). */
  private cached: { tokens: number[]; past: Past } | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  /** Set when the graph outputs only the new keys and values (`new.*`, the in-memory graph). */
  private store: KvStore | null = null;

  constructor(
    private readonly session: InferenceSession,
    readonly info: DecoderInfo,
  ) {
    if (session.outputNames.includes(kvNewNames(info.layout)[0])) this.store = { bufs: [], stride: 0 };
  }

  /** A decoder on a model folder's weights (with a LoRA adapter merged), fp32 or int8. */
  static async fromModel(
    model: LoadedModel,
    o: { adapter?: Adapter; dtype?: 'fp32' | 'int8'; int8?: QuantizeOptions } & DecoderSessionOptions = {},
  ): Promise<Decoder> {
    const { graph, layout } = buildInferenceGraph(model, { adapter: o.adapter, cacheOutputs: 'new' });
    if (o.dtype === 'int8') quantizeGraphInt8(graph, { accuracyLevel: 4, ...o.int8 });
    const session = await decoderSession(graph.toBytes(), o);
    return new Decoder(session, {
      layout,
      vocabSize: model.family.vocabSize(model.config),
      contextLength: model.family.contextLength(model.config),
      eosIds: readEosIds(model.dir),
      fimLayout: readFimLayout(model.dir),
    });
  }

  /** A decoder on an exported folder (`onnx/model.onnx`, or `onnx/model_quantized.onnx` for int8). */
  static async fromExported(
    dir: string,
    o: { dtype?: 'fp32' | 'int8' } & DecoderSessionOptions = {},
  ): Promise<Decoder> {
    const file = join(dir, 'onnx', o.dtype === 'int8' ? 'model_quantized.onnx' : 'model.onnx');
    if (!existsSync(file))
      throw new OptionError(['dtype'], `${file}: missing; export the model with dtype ${o.dtype ?? 'fp32'}`);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const session = await decoderSession(file, o);
    const num = (...keys: string[]) => {
      for (const k of keys) if (typeof config[k] === 'number') return config[k] as number;
      throw new UserError(`${join(dir, 'config.json')}: no ${keys.join(' / ')}`);
    };
    return new Decoder(session, {
      layout: layoutFromSession(session),
      vocabSize: num('vocab_size'),
      contextLength: num('n_positions', 'max_position_embeddings'),
      eosIds: readEosIds(dir),
      fimLayout: fimLayoutOf(config),
    });
  }

  /** Writes the profile of a decoder made with `profile`. */
  endProfiling(): void {
    this.session.endProfiling();
  }

  /** Forgets the prompt cache. */
  reset(): void {
    this.cached = null;
  }

  /** Generates after `prompt`; requests queue behind each other (the prompt cache is shared). */
  generate(prompt: readonly number[], o: GenerateOptions = {}): Promise<GenerateResult> {
    const run = this.queue.then(() => this.run(prompt, o));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run(prompt: readonly number[], o: GenerateOptions): Promise<GenerateResult> {
    const started = performance.now();
    const { contextLength, vocabSize } = this.info;
    if (prompt.length === 0) throw new UserError('generation needs a prompt of at least one token');
    if (prompt.length > contextLength)
      throw new UserError(
        `the prompt is ${prompt.length} tokens, longer than the model's context (${contextLength})`,
      );
    const bad = prompt.find((i) => !Number.isInteger(i) || i < 0 || i >= vocabSize);
    if (bad !== undefined)
      throw new UserError(`token id ${bad} is outside the model's vocabulary (0..${vocabSize - 1})`);
    const maxTokens = o.maxTokens ?? 64;
    const stops = new Set([...this.info.eosIds, ...(o.stopIds ?? [])]);
    const rng = new Rng(o.seed ?? Date.now());
    const useCache = o.kvCache !== false;

    // The longest common prefix with what the cache holds; at least one token is fed for logits.
    let reused = 0;
    let past = this.emptyPast();
    if (useCache && o.promptCache !== false && this.cached) {
      const c = this.cached.tokens;
      while (reused < c.length && reused < prompt.length - 1 && c[reused] === prompt[reused]) reused++;
      // The store keeps its buffers: positions from `reused` on are overwritten or masked.
      if (reused > 0 && !this.store) past = this.keepPast(this.cached.past, c.length, reused);
    }
    this.cached = null; // rebuilt below from what this request feeds
    const fed = prompt.slice(0, reused);
    const tokens: number[] = [];
    let pending = prompt.slice(reused);
    let stop: StopReason = 'max_tokens';
    let firstAt = NaN;
    try {
      while (tokens.length < maxTokens) {
        if (o.signal?.aborted) {
          stop = 'aborted';
          break;
        }
        if (fed.length + pending.length > contextLength) {
          stop = 'context';
          break;
        }
        let logits: Float32Array;
        if (useCache) {
          const out = this.store
            ? await this.append(this.store, pending, fed.length)
            : await this.forward(pending, past, fed.length);
          logits = out.logits;
          past = out.present;
          fed.push(...pending);
          this.cached = { tokens: fed.slice(), past };
        } else {
          fed.push(...pending);
          logits = (await this.forward(fed, this.emptyPast(), 0)).logits;
        }
        o.onLogits?.(logits);
        const next = sampleToken(logits, o, rng);
        if (stops.has(next)) {
          stop = 'eos';
          break;
        }
        tokens.push(next);
        if (tokens.length === 1) firstAt = performance.now();
        o.onToken?.(next);
        pending = [next];
      }
    } finally {
      if (!useCache) this.cached = null;
    }
    const decodeSeconds = (performance.now() - firstAt) / 1000;
    return {
      tokens,
      stop,
      promptTokens: prompt.length,
      reusedTokens: reused,
      firstTokenMs: firstAt - started,
      decodeTokensPerSecond: tokens.length > 1 ? (tokens.length - 1) / decodeSeconds : NaN,
    };
  }

  /** One run of the graph: `ids` after `pastLength` cached tokens → the last position's logits [V]. */
  async forward(
    ids: readonly number[],
    past: Past,
    pastLength: number,
    o: { allLogits?: boolean } = {},
  ): Promise<{ logits: Float32Array; present: Past }> {
    const T = ids.length;
    const S = pastLength + T;
    const feeds: Record<string, OrtTensor> = {
      ...past,
      ...positionFeeds(ids, pastLength, new BigInt64Array(S).fill(1n), o.allLogits ? 0 : 1),
    };
    const out = await this.session.run(feeds);
    const present: Past = {};
    const names = kvNames(this.info.layout);
    if (!this.store) for (const n of names) present[n.past] = out[n.present];
    else {
      // A new-only graph: the present is the past and the new positions side by side.
      const newNames = kvNewNames(this.info.layout);
      const { fused, kvHeads, headDim } = this.info.layout;
      names.forEach((n, i) => {
        const a = past[n.past].data as Float32Array;
        const b = out[newNames[i]].data as Float32Array;
        if (fused) {
          const all = new Float32Array(a.length + b.length);
          all.set(a);
          all.set(b, a.length);
          present[n.past] = toOrt('float32', all, [1, S, 2 * headDim]);
          return;
        }
        const all = new Float32Array(kvHeads * S * headDim);
        for (let h = 0; h < kvHeads; h++) {
          all.set(a.subarray(h * pastLength * headDim, (h + 1) * pastLength * headDim), h * S * headDim);
          all.set(b.subarray(h * T * headDim, (h + 1) * T * headDim), (h * S + pastLength) * headDim);
        }
        present[n.past] = toOrt('float32', all, [1, kvHeads, S, headDim]);
      });
    }
    return { logits: out.logits.data as Float32Array, present };
  }

  /**
   * One step on a new-only graph with the cache in `store`: `ids` after the first `pastLength`
   * stored positions → the last position's logits [V]; the new positions are stored after them.
   */
  private async append(
    store: KvStore,
    ids: readonly number[],
    pastLength: number,
  ): Promise<{ logits: Float32Array; present: Past }> {
    const { layout, contextLength } = this.info;
    const { kvHeads: KV, headDim: D, fused } = layout;
    const T = ids.length;
    const S = pastLength + T;
    const names = kvNames(layout);
    if (S > store.stride) {
      // Grow by 256 positions at a time (at most the context), keeping the stored prefix.
      const stride = Math.max(S, Math.min(contextLength, Math.ceil(S / 256) * 256));
      const width = fused ? 2 * D : D;
      store.bufs = names.map((_, i) => {
        const old = store.bufs[i];
        const buf = new Float32Array((fused ? 1 : KV) * stride * width);
        if (old && pastLength > 0) {
          if (fused) buf.set(old.subarray(0, pastLength * width));
          else
            for (let h = 0; h < KV; h++)
              buf.set(
                old.subarray(h * store.stride * D, (h * store.stride + pastLength) * D),
                h * stride * D,
              );
        }
        return buf;
      });
      store.stride = stride;
    }
    // What to feed as the past, P positions of it valid. Fused: a prefix view (position-major).
    // Per head: the whole buffer with the unused positions masked, which costs a decode step
    // (T = 1) nothing; a prefill (large T) gets a compact copy so its attention spans P + T keys.
    let P = pastLength;
    const past: Past = {};
    if (fused) {
      for (const [i, n] of names.entries())
        past[n.past] = toOrt('float32', store.bufs[i].subarray(0, P * 2 * D), [1, P, 2 * D]);
    } else if (T <= 16 || store.stride - pastLength <= 64) {
      P = store.stride;
      for (const [i, n] of names.entries()) past[n.past] = toOrt('float32', store.bufs[i], [1, KV, P, D]);
    } else {
      for (const [i, n] of names.entries()) {
        const buf = store.bufs[i];
        const compact = new Float32Array(KV * P * D);
        for (let h = 0; h < KV; h++)
          compact.set(buf.subarray(h * store.stride * D, (h * store.stride + P) * D), h * P * D);
        past[n.past] = toOrt('float32', compact, [1, KV, P, D]);
      }
    }
    const mask = new BigInt64Array(P + T).fill(1n);
    if (P > pastLength) mask.fill(0n, pastLength, P);
    const out = await this.session.run({ ...past, ...positionFeeds(ids, pastLength, mask, 1) }, [
      'logits',
      ...kvNewNames(layout),
    ]);
    kvNewNames(layout).forEach((name, i) => {
      const data = out[name].data as Float32Array; // [KV, T, D] or [T, 2D]
      const buf = store.bufs[i];
      if (fused) buf.set(data, pastLength * 2 * D);
      else
        for (let h = 0; h < KV; h++)
          buf.set(data.subarray(h * T * D, (h + 1) * T * D), (h * store.stride + pastLength) * D);
    });
    return { logits: out.logits.data as Float32Array, present: {} };
  }

  emptyPast(): Past {
    const { kvHeads, headDim, fused } = this.info.layout;
    const dims = fused ? [1, 0, 2 * headDim] : [1, kvHeads, 0, headDim];
    const past: Past = {};
    for (const n of kvNames(this.info.layout)) past[n.past] = toOrt('float32', new Float32Array(0), dims);
    return past;
  }

  /**
   * The first `keep` of `length` cached positions, in place (the previous request's cache, about
   * to be replaced; the arrays are ours, copied out of ORT): per-head caches move each head's
   * first `keep` rows down to make [1, KV, keep, D] contiguous; fused ones are a prefix view.
   */
  private keepPast(past: Past, length: number, keep: number): Past {
    const { kvHeads, headDim, fused } = this.info.layout;
    const out: Past = {};
    for (const [name, t] of Object.entries(past)) {
      const data = t.data as Float32Array;
      if (fused) {
        out[name] = toOrt('float32', data.subarray(0, keep * 2 * headDim), [1, keep, 2 * headDim]);
        continue;
      }
      for (let h = 1; h < kvHeads; h++)
        data.copyWithin(h * keep * headDim, h * length * headDim, (h * length + keep) * headDim);
      out[name] = toOrt('float32', data.subarray(0, kvHeads * keep * headDim), [1, kvHeads, keep, headDim]);
    }
    return out;
  }
}

/** input_ids, attention_mask, position_ids (after `pastLength`) and num_logits_to_keep. */
function positionFeeds(
  ids: readonly number[],
  pastLength: number,
  mask: BigInt64Array,
  keep: number,
): Record<string, OrtTensor> {
  const T = ids.length;
  return {
    input_ids: toOrt('int64', BigInt64Array.from(ids, BigInt), [1, T]),
    attention_mask: toOrt('int64', mask, [1, mask.length]),
    position_ids: toOrt(
      'int64',
      BigInt64Array.from({ length: T }, (_, i) => BigInt(pastLength + i)),
      [1, T],
    ),
    num_logits_to_keep: toOrt('int64', BigInt64Array.of(BigInt(keep)), []),
  };
}

export interface DecoderSessionOptions {
  /** Intra-op threads (default: the number of cores). */
  threads?: number;
  /**
   * false: ORT's intra-op threads sleep between parallel sections instead of spinning. For a
   * background worker sharing the cores with the editor and other processes: gpt2-small int8,
   * 2 threads, 407-token prompt + 8 tokens beside a 2-thread PyTorch job on 2 cores: a prompt-
   * cache hit 235 -> 146 ms, a miss 750 -> 551 ms. Default true (ORT's default).
   */
  spin?: boolean;
  /** onnxruntime's profiler writes `<profile>_<time>.json` (bench/profile/decoder.ts); see endProfiling. */
  profile?: string;
}

function decoderSession(model: Uint8Array | string, o: DecoderSessionOptions): Promise<InferenceSession> {
  return createSession(model, { threads: o.threads, spin: o.spin, profile: o.profile });
}

/** The cache layout an exported graph declares in its inputs. */
function layoutFromSession(session: InferenceSession): KvLayout {
  let nLayer = 0;
  let fused = false;
  let shape: readonly (number | string)[] = [];
  for (const meta of session.inputMetadata) {
    const m = /^past_key_values\.(\d+)\.(key|value|key_value)$/.exec(meta.name);
    if (!m) continue;
    nLayer = Math.max(nLayer, Number(m[1]) + 1);
    fused = m[2] === 'key_value';
    if (meta.isTensor) shape = meta.shape;
  }
  const D = fused ? Number(shape[2]) / 2 : Number(shape[3]);
  const KV = fused ? 1 : Number(shape[1]);
  if (!nLayer || !Number.isInteger(D) || !Number.isInteger(KV))
    throw new UserError(
      'the ONNX model has no KV-cache inputs (past_key_values.*); export it with localtune export',
    );
  return { nLayer, kvHeads: KV, headDim: D, fused };
}

/** eos_token_id from generation_config.json, else config.json (a number or a list). */
/**
 * `fim_layout: "spm"` in a model's config.json: its FIM prompts put the prefix last
 * (`<fim_prefix><fim_suffix>S<fim_middle>P`). LocalTune's starter says so (it answers SPM better);
 * hub models say nothing and get PSM, the layout StarCoder and Qwen-Coder document.
 */
export function fimLayoutOf(config: object): 'psm' | 'spm' {
  return (config as { fim_layout?: unknown }).fim_layout === 'spm' ? 'spm' : 'psm';
}

/** The folder's FIM layout (config.json, unreadable: psm). */
export function readFimLayout(dir: string): 'psm' | 'spm' {
  try {
    return fimLayoutOf(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as object);
  } catch {
    return 'psm';
  }
}

export function readEosIds(dir: string): number[] {
  for (const file of ['generation_config.json', 'config.json']) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    try {
      const eos = (JSON.parse(readFileSync(path, 'utf8')) as { eos_token_id?: unknown }).eos_token_id;
      if (typeof eos === 'number') return [eos];
      if (Array.isArray(eos)) return eos.filter((e): e is number => typeof e === 'number');
    } catch {
      // an unreadable file gives no stop tokens; the model loader reports bad configs
    }
  }
  return [];
}
