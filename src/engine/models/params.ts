/**
 * Where each weight of a model graph comes from: frozen weights become initializers, trainable
 * ones graph inputs (all weights in full fine-tuning; LoRA A/B matrices in LoRA mode).
 * Families ask for weights by their Hugging Face names and never decide this themselves.
 */
import type { DType, Graph, Tensor } from '../onnx/builder';
import type { WeightSource } from '../formats/weights';
import type { LoraSettings } from '../formats/peft';
import { initLora, isLoraTarget, loraScale } from './lora';
import { Rng } from '../rng';
import { int8Product } from '../autodiff/int8Product';
import { hashDropout } from './dropout';
import { padZeros, transpose2d } from './layout';

export type TrainMode = 'lora' | 'full' | 'frozen';

/** How frozen base weights are held: float32, or int8 for onnxruntime's integer GEMMs (LoRA only). */
export type BaseDtype = 'fp32' | 'int8';

export interface Trainable {
  /** Graph input name: the HF weight name, or `<module>.lora_A.weight` / `.lora_B.weight`. */
  name: string;
  shape: number[];
  initial: Float32Array;
  tensor: Tensor;
  /** The graph holds the transpose of the HF weight (`shape` is the graph's; see layout.ts). */
  transposed?: boolean;
  /** Zeros the graph's value has appended along each axis (layout.ts). */
  padded?: number[];
}

export interface ParamOptions {
  mode: TrainMode;
  lora?: LoraSettings;
  dtype?: 'float32' | 'float64';
  /** Seeds LoRA A initialisation. */
  seed?: number;
  /**
   * Existing LoRA values by input name (a loaded adapter): the starting point in LoRA mode,
   * constants in frozen mode (scoring a tuned model).
   */
  loraValues?: ReadonlyMap<string, Float32Array>;
  /** A training graph: LoRA dropout (when set) is applied, seeded by the `dropout_seed` input. */
  training?: boolean;
  /**
   * `int8`: every frozen linear layer multiplies through int8 copies of its weight, forward and
   * input gradient, and the LM head forward (autodiff/int8Product.ts; the head's input gradient
   * stays float32, see train/lmGraph.ts). LoRA mode, float32 only.
   */
  baseDtype?: BaseDtype;
  /** With an int8 base: modules kept in float32, named as LoRA targets are (`lm_head`: the head). */
  int8Except?: readonly string[];
}

export class ModelParams {
  readonly trainables: Trainable[] = [];
  private readonly cache = new Map<string, Tensor>();
  private readonly rng: Rng;
  readonly dtype: DType;

  constructor(
    private readonly g: Graph,
    private readonly source: WeightSource,
    private readonly o: ParamOptions,
  ) {
    this.rng = new Rng(o.seed ?? 0).fork('lora');
    this.dtype = o.dtype ?? 'float32';
    if (o.baseDtype === 'int8' && (o.mode !== 'lora' || this.dtype !== 'float32'))
      throw new Error(`an int8 base needs LoRA in float32 (mode ${o.mode}, ${this.dtype})`);
  }

  /** Whether the frozen weight of `modulePath` multiplies in int8 (`lm_head`: the LM head). */
  int8For(modulePath: string): boolean {
    if (this.o.baseDtype !== 'int8') return false;
    const except = this.o.int8Except ?? [];
    return !except.includes(modulePath) && !except.includes(modulePath.slice(modulePath.lastIndexOf('.') + 1));
  }

  get mode(): TrainMode {
    return this.o.mode;
  }

  /** Whether this is a training graph (one with a backward pass). */
  get training(): boolean {
    return this.o.training === true;
  }

  private convert(data: Float32Array): Float32Array | Float64Array {
    return this.dtype === 'float64' ? Float64Array.from(data) : data;
  }

  private trainableInput(
    name: string,
    shape: number[],
    initial: Float32Array,
    layout: Pick<Trainable, 'transposed' | 'padded'> = {},
  ): Tensor {
    const tensor = this.g.input(name, this.dtype, shape);
    this.trainables.push({ name, shape, initial, tensor, ...layout });
    return tensor;
  }

  /** A base-model weight's shape, without making it a graph input or initializer. */
  shapeOf(name: string): number[] {
    const held = this.cache.get(name);
    if (held) return held.shape as number[];
    return this.source.header?.(name)?.shape ?? this.source.read(name).shape;
  }

  /** A base-model weight: a graph input in full fine-tuning, otherwise an initializer. */
  weight(name: string): Tensor {
    const cached = this.cache.get(name);
    if (cached) return cached;
    // (Outside full mode, `ᵀ` keys a frozen transposed copy, which may sit beside the weight.)
    if (this.o.mode === 'full' && (this.cache.has(`${name}ᵀ`) || this.cache.has(`${name}+pad`)))
      throw new Error(`${name} is held transposed or padded in this graph`);
    const { data, shape } = this.source.read(name);
    const t =
      this.o.mode === 'full'
        ? this.trainableInput(name, shape, data)
        : this.g.initializer(name, this.convert(data), shape);
    this.cache.set(name, t);
    return t;
  }

  /**
   * A Conv1D-style linear layer (weight [in, out], as GPT-2 stores it): y = x·W + b, plus the
   * LoRA path when the module is a target. Computed on rows [N, in] (N = all leading axes) as
   * Gemm with the bias as C: no separate bias pass, and the LoRA up-projection accumulates into
   * the same output (Gemm's C) instead of writing its own [N, out] and adding it.
   *
   * `pad.out` appends zero output columns (zero weights and bias); `pad.in` accepts an input with
   * that many extra columns and ignores them (zero weight rows). See `stridePad`.
   */
  conv1d(x: Tensor, modulePath: string, pad: { in?: number; out?: number } = {}): Tensor {
    const g = this.g;
    const [padIn, padOut] = [pad.in ?? 0, pad.out ?? 0];
    const name = `${modulePath}.weight`;
    // An int8 layer reads its float32 weight once, to quantize it; no float32 initializer.
    const frozen = this.int8For(modulePath) ? this.source.read(name) : undefined;
    const [inFeatures, outFeatures] = frozen?.shape ?? this.shapeOf(name);
    // A full fine-tune holds its weights padded (layout.ts); otherwise the graph pads the constants.
    const full = this.o.mode === 'full';
    const weight = frozen ? undefined : full ? this.paddedTrainable(name, [padIn, padOut]) : this.weight(name);
    const biasName = `${modulePath}.bias`;
    const bias = full
      ? this.paddedTrainable(biasName, [padOut])
      : this.zeroPadded(this.weight(biasName), [padOut]);
    const rows = x.rank === 2 ? x : g.reshape(x, [-1, inFeatures + padIn]); // [N, in + padIn]
    const y = frozen
      ? this.int8Conv1d(rows, name, frozen.data, [inFeatures, outFeatures], [padIn, padOut], bias)
      : g.gemm(rows, full ? weight! : this.zeroPadded(weight!, [padIn, padOut]), bias);
    const width = outFeatures + padOut;
    const out = this.withLora(y, rows, modulePath, inFeatures, outFeatures, [padIn, padOut]);
    if (x.rank === 2) return out;
    const lead = g.slice(g.shapeOf(x), [0], [-1], [0]);
    return g.reshapeTo(out, g.concat([lead, g.ints([width])], 0), [...x.shape.slice(0, -1), width]);
  }

  /** The Conv1D weight [in, out] in int8, zero-padded to [in + padIn, out + padOut] as conv1d pads it. */
  private int8Conv1d(
    rows: Tensor,
    name: string,
    data: Float32Array,
    [inFeatures, outFeatures]: readonly number[],
    [padIn, padOut]: readonly number[],
    bias: Tensor,
  ): Tensor {
    const at = (k: number, n: number) => (k < inFeatures && n < outFeatures ? data[k * outFeatures + n] : 0);
    return int8Product(this.g, rows, { K: inFeatures + padIn, N: outFeatures + padOut, at }, name, bias);
  }

  /**
   * A full fine-tune's trainable weight `name` held with `pads[i]` zeros appended along axis i
   * (layout.ts): graph input under the HF name, the stored file's shape restored when written.
   */
  private paddedTrainable(name: string, pads: readonly number[]): Tensor {
    if (pads.every((n) => n === 0)) return this.weight(name);
    const key = `${name}+pad`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    if (this.cache.has(name)) throw new Error(`${name} is held unpadded in this graph`);
    const { data, shape } = this.source.read(name);
    const padded = shape.map((_, i) => pads[i] ?? 0);
    const t = this.trainableInput(
      name,
      shape.map((d, i) => d + padded[i]),
      padZeros(data, shape, padded),
      { padded },
    );
    this.cache.set(key, t);
    return t;
  }

  /**
   * `t` with `pads[i]` zeros appended along axis i, by the graph: for constants, whose padding
   * folds into one initializer when the session is created.
   */
  private zeroPadded(t: Tensor, pads: readonly number[]): Tensor {
    let out = t;
    pads.forEach((n, axis) => {
      if (n === 0) return;
      const shape = out.shape.map((d, i) => (i === axis ? n : (d as number)));
      const zeros = this.g.constant(new Float32Array(shape.reduce((a, b) => a * b, 1)), this.dtype, shape);
      out = this.g.concat([out, zeros], axis);
    });
    return out;
  }

  /**
   * An nn.Linear layer (weight [out, in], as Llama, Qwen2 and GPTBigCode store it): y = x·Wᵀ (+ b),
   * plus the LoRA path when the module is a target. Frozen, the weight is stored transposed
   * ([in, out]) so MatMul needs no Transpose; trainable, it stays [out, in] under its HF name.
   */
  linear(x: Tensor, modulePath: string, o: { bias: boolean }): Tensor {
    const g = this.g;
    const name = `${modulePath}.weight`;
    if (this.int8For(modulePath)) {
      const { data, shape } = this.source.read(name);
      const [outFeatures, inFeatures] = shape;
      const bias = o.bias ? this.weight(`${modulePath}.bias`) : null;
      const w = { K: inFeatures, N: outFeatures, at: (k: number, n: number) => data[n * inFeatures + k] };
      return this.withLora(int8Product(g, x, w, name, bias), x, modulePath, inFeatures, outFeatures);
    }
    let wT: Tensor; // [in, out]
    if (this.o.mode === 'full') {
      wT = this.transposedTrainable(name);
    } else {
      const key = `${name}ᵀ`;
      const cached = this.cache.get(key);
      if (cached) wT = cached;
      else {
        const { data, shape } = this.source.read(name);
        const [outFeatures, inFeatures] = shape;
        wT = g.initializer(`${name}_t`, this.convert(transpose2d(data, outFeatures, inFeatures)), [
          inFeatures,
          outFeatures,
        ]);
        this.cache.set(key, wT);
      }
    }
    const [inFeatures, outFeatures] = wT.shape as number[];
    let y = g.matmul(x, wT); // [.., out]
    if (o.bias) y = g.add(y, this.weight(`${modulePath}.bias`));
    return this.withLora(y, x, modulePath, inFeatures, outFeatures);
  }

  /**
   * nn.Linear layers that read the same x (q/k/v, gate/up). With `fused` (the Decoder's own graph,
   * whose weights need not be the checkpoint's tensors) and no LoRA on them, one product with their
   * weights side by side ([in, Σout]) and its output split. One GEMM quantizes x once on the int8
   * path and is one parallel section instead of two or three: SmolLM2-135M's shape, int8, 2
   * threads, a prompt-cache hit of 8 tokens 185 -> 150 ms with the fused norm and rotary nodes
   * (llama.ts). Exported graphs reference the checkpoint's own tensors; training graphs keep one
   * product per layer (fused, that shape's gate/up forward and input gradient were no faster:
   * 1024 rows, 53 vs 53 ms). `joined`: a fused product comes back as one tensor [.., Σout], for
   * a caller that splits it its own way (one tensor means fused; otherwise one per module).
   */
  linears(
    x: Tensor,
    modulePaths: readonly string[],
    o: { bias: boolean; fused?: boolean; joined?: boolean },
  ): Tensor[] {
    const lora = this.o.lora;
    const fusable =
      o.fused === true &&
      !this.training &&
      modulePaths.length > 1 &&
      this.o.mode === 'frozen' &&
      !modulePaths.some((m) => lora && isLoraTarget(lora, m));
    if (!fusable) return modulePaths.map((m) => this.linear(x, m, { bias: o.bias }));
    const g = this.g;
    const parts = modulePaths.map((m) => this.source.read(`${m}.weight`)); // [out, in] each
    const inFeatures = parts[0].shape[1];
    const outs = parts.map((w) => w.shape[0]);
    const N = outs.reduce((a, b) => a + b, 0);
    const name = `${modulePaths.join('+')}.weight`;
    const stacked = new Float32Array(N * inFeatures); // [Σout, in]: the parts' rows, one after another
    let at = 0;
    for (const { data } of parts) {
      stacked.set(data, at);
      at += data.length;
    }
    const wT = transpose2d(stacked, N, inFeatures); // [in, Σout]
    let y = g.matmul(x, g.initializer(`${name}_t`, this.convert(wT), [inFeatures, N]));
    if (o.bias) y = g.add(y, g.concat(modulePaths.map((m) => this.weight(`${m}.bias`)), 0));
    return o.joined ? [y] : g.split(y, outs, -1);
  }

  /**
   * A full fine-tune's trainable weight [rows, cols] held as its transpose [cols, rows] (layout.ts):
   * graph input under the HF name, the stored file's layout restored when values are written.
   */
  private transposedTrainable(name: string): Tensor {
    const key = `${name}ᵀ`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    if (this.cache.has(name)) throw new Error(`${name} is held untransposed in this graph`);
    const { data, shape } = this.source.read(name);
    const [rows, cols] = shape;
    const t = this.trainableInput(name, [cols, rows], transpose2d(data, rows, cols), { transposed: true });
    this.cache.set(key, t);
    return t;
  }

  /** Rows of the token table `name` [V, C] for `ids`: [...ids, C]. */
  embed(name: string, ids: Tensor): Tensor {
    return this.g.gather(this.weight(name), ids);
  }

  /**
   * The LM head: rows [N, C] · Wᵀ with W [V, C] (the weight `name`, tied to the embedding or not),
   * through an int8 copy when the base is int8; a tied float32 table stays for the Gather.
   * (Held as [C, V] in a full fine-tune, its weight gradient would be rowsᵀ·dLogits, 613 → 531 ms
   * at gpt2-small; the table's column scatter and transposes then cost more than that saves.)
   */
  head(rows: Tensor, name: string): Tensor {
    const w = this.weight(name);
    const frozen = this.g.initializers.get(w.name)?.data as Float32Array | undefined;
    if (!this.int8For('lm_head') || !frozen) return this.g.gemm(rows, w, null, { transB: true });
    const [V, C] = w.shape as number[];
    return int8Product(this.g, rows, { K: C, N: V, at: (k, n) => frozen[n * C + k] }, w.name);
  }

  /** y + (α/r)·(x·Aᵀ)·Bᵀ with A [r, in] and B [out, r] (PEFT's layout) when the module is a target. */
  private withLora(
    y: Tensor,
    x: Tensor,
    modulePath: string,
    inFeatures: number,
    outFeatures: number,
    [padIn, padOut]: readonly number[] = [0, 0],
  ): Tensor {
    const g = this.g;
    const lora = this.o.lora;
    if (lora && isLoraTarget(lora, modulePath) && (this.o.mode === 'lora' || this.o.loraValues)) {
      const aName = `${modulePath}.lora_A.weight`;
      const bName = `${modulePath}.lora_B.weight`;
      const fresh = initLora(this.rng, lora.r, inFeatures, outFeatures);
      const aInit = this.o.loraValues?.get(aName) ?? fresh.a;
      const bInit = this.o.loraValues?.get(bName) ?? fresh.b;
      const a =
        this.o.mode === 'lora'
          ? this.trainableInput(aName, [lora.r, inFeatures], aInit)
          : g.initializer(aName, this.convert(aInit), [lora.r, inFeatures]);
      const b =
        this.o.mode === 'lora'
          ? this.trainableInput(bName, [outFeatures, lora.r], bInit)
          : g.initializer(bName, this.convert(bInit), [outFeatures, lora.r]);
      // Scale the rank-r activations, not the wide output: r multiplies instead of `out`.
      const dropped =
        this.o.training && lora.dropout > 0 ? hashDropout(g, x, lora.dropout, this.dropoutSeed()) : x;
      if (x.rank === 2) {
        // Rows: (α/r)·x·Aᵀ as Gemm's alpha, and y as the up-projection's C (accumulated in place).
        const down2 = g.gemm(dropped, this.zeroPadded(a, [0, padIn]), null, {
          transB: true,
          alpha: loraScale(lora),
        }); // [N, r]
        return g.gemm(down2, this.zeroPadded(b, [padOut]), y, { transB: true }); // [N, out + padOut]
      }
      if (padIn || padOut) throw new Error('zero padding needs rows [N, features]');
      const down = g.mul(
        g.matmul(dropped, g.transpose(a, [1, 0])),
        g.constant(loraScale(lora), this.dtype, []),
      ); // [.., r]
      y = g.add(y, g.matmul(down, g.transpose(b, [1, 0]))); // [.., out]
    }
    return y;
  }

  private seedInput: Tensor | undefined;
  /** The per-run-of-the-graph dropout seed (int64 scalar), created on first use. */
  private dropoutSeed(): Tensor {
    this.seedInput ??= this.g.input('dropout_seed', 'int64', []);
    return this.seedInput;
  }
}
