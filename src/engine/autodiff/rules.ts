/**
 * One gradient rule per ONNX op, in onnxruntime's gradient-builder vocabulary: I(i) inputs,
 * O(i) outputs, GO(i) incoming gradients, needs(i) whether input i wants a gradient.
 * The formula sits beside each rule. Broadcasting is undone by `unbroadcast` only.
 */
import type { GradContext, GradRule } from './context';
import { constantValues, scalar, sizeRatio, transposeLast2, unbroadcast, zerosLike } from './helpers';
import { attr, type Graph, type Tensor } from '../onnx/builder';
import { normAxis } from '../onnx/shapes';
import { int8ProductRule } from './int8Product';

function intAttr(c: GradContext, name: string, fallback: number): number {
  const a = c.node.attrs[name];
  return a && a.kind === 'int' ? a.value : fallback;
}

/**
 * A float attribute as the forward kernel sees it: the model stores it as float32, so a
 * constant built from the unrounded number (β = 0.1 in float64) would not match the forward.
 */
function floatAttr(c: GradContext, name: string, fallback: number): number {
  const a = c.node.attrs[name];
  return Math.fround(a && a.kind === 'float' ? a.value : fallback);
}

function dY(c: GradContext): Tensor {
  const d = c.GO(0);
  if (!d) throw new Error(`${c.node.op}: no incoming gradient`);
  return d;
}

/** Same-shape unary ops: dX = dY * f'(X, Y). */
function unary(derivative: (c: GradContext, dy: Tensor) => Tensor): GradRule {
  return (c) => [c.needs(0) ? derivative(c, dY(c)) : undefined];
}

/** The gradient reshaped back to the input's (run-time) shape. */
const reshapeBack: GradRule = (c) => [c.g.reshapeTo(dY(c), c.g.shapeOf(c.I(0)), c.I(0).shape)];

/** Sum/mean reductions with constant axes: dX = expand(dY) (· size(Y)/size(X) for the mean). */
function reduction(mean: boolean): GradRule {
  return (c) => {
    const { g } = c;
    const x = c.I(0);
    const axes = constantValues(g, c.I(1)).map((a) => normAxis(a, x.rank));
    let d = dY(c);
    if (intAttr(c, 'keepdims', 1) === 0)
      d = g.unsqueeze(
        d,
        [...axes].sort((a, b) => a - b),
      );
    if (mean) d = g.mul(d, sizeRatio(g, c.O(0), x));
    return [g.expand(d, g.shapeOf(x), x.shape)];
  };
}

/**
 * A norm's x̂ and invStd [.., 1] over the last axis, recomputed for the backward pass:
 * LayerNormalization's x̂ = (x − mean)·invStd, or RMSNorm's (`centered` false) x̂ = x·invStd.
 * A float32 RMSNorm takes both from SimplifiedLayerNormalization with unit scale (invStd is its
 * optional output): one node instead of two Muls, a ReduceMean and three ops on the statistics.
 * The same with LayerNormalization made gpt2-small's LoRA step slower (int8 base: 1,056 and 1,130
 * → 992 and 983 tokens/s, interleaved), so it keeps the decomposed form, as float64 graphs do
 * (ORT's statistics outputs are float32 only).
 */
function normalized(c: GradContext, x: Tensor, centered: boolean): { xhat: Tensor; invStd: Tensor } {
  const { g } = c;
  const eps = floatAttr(c, 'epsilon', 1e-5);
  if (x.dtype === 'float32' && !centered) {
    const C = x.shape[x.rank - 1] as number;
    const [xhat, invStd] = g.node(
      'SimplifiedLayerNormalization',
      [x, g.constant(new Float32Array(C).fill(1), 'float32', [C])],
      [
        { dtype: x.dtype, shape: x.shape },
        { dtype: x.dtype, shape: [...x.shape.slice(0, -1), 1] },
      ],
      { axis: attr.int(-1), epsilon: attr.float(eps) },
    );
    return { xhat, invStd };
  }
  const centeredX = centered ? g.sub(x, g.reduceMean(x, [-1], true)) : x;
  const variance = g.reduceMean(g.mul(centeredX, centeredX), [-1], true);
  const invStd = g.reciprocal(g.sqrt(g.add(variance, scalar(g, x, eps))));
  return { xhat: g.mul(centeredX, invStd), invStd };
}

/** The last axis of a norm's input: the only one the norm rules take. */
function lastAxisOnly(c: GradContext, x: Tensor): void {
  if (normAxis(intAttr(c, 'axis', -1), x.rank) !== x.rank - 1)
    throw new Error(`${c.node.op} gradient: last axis only`);
}

/**
 * −sin for RotaryEmbedding's backward, one per graph and table: every q and k rotation of every
 * layer shares the table, and onnxruntime folds each Neg into an initializer of its own
 * ([max positions, D/2]: 1 MB at SmolLM2's 8,192 positions, 60 of them).
 */
const negatedTables = new WeakMap<Graph, Map<string, Tensor>>();

function negatedTable(g: Graph, table: Tensor): Tensor {
  let tables = negatedTables.get(g);
  if (!tables) negatedTables.set(g, (tables = new Map()));
  let negated = tables.get(table.name);
  if (!negated) tables.set(table.name, (negated = g.neg(table)));
  return negated;
}

/** LayerNormalization's rule (`centered`) or RMSNorm's, over the last axis, x̂ and r recomputed. */
function normRule(centered: boolean): GradRule {
  return (c) => {
    const { g } = c;
    const x = c.I(0);
    lastAxisOnly(c, x);
    const d = dY(c);
    const { xhat, invStd } = normalized(c, x, centered);
    const lead = [...Array(x.rank - 1).keys()];
    const dScale = c.needs(1) ? g.reduceSum(g.mul(d, xhat), lead) : undefined;
    const dBias = centered && c.node.inputs[2] && c.needs(2) ? g.reduceSum(d, lead) : undefined;
    let dX: Tensor | undefined;
    if (c.needs(0)) {
      const dxhat = g.mul(d, c.I(1));
      const m2 = g.reduceMean(g.mul(dxhat, xhat), [-1], true);
      const shifted = centered ? g.sub(dxhat, g.reduceMean(dxhat, [-1], true)) : dxhat;
      dX = g.mul(g.sub(shifted, g.mul(xhat, m2)), invStd);
    }
    return centered ? [dX, dScale, dBias] : [dX, dScale];
  };
}

export const RULES: Record<string, GradRule> = {
  // dA = dY, dB = dY
  Add: (c) => [
    c.needs(0) ? unbroadcast(c.g, dY(c), c.I(0)) : undefined,
    c.needs(1) ? unbroadcast(c.g, dY(c), c.I(1)) : undefined,
  ],

  // dA = dY, dB = -dY
  Sub: (c) => [
    c.needs(0) ? unbroadcast(c.g, dY(c), c.I(0)) : undefined,
    c.needs(1) ? unbroadcast(c.g, c.g.neg(dY(c)), c.I(1)) : undefined,
  ],

  // dA = dY * B, dB = dY * A
  Mul: (c) => [
    c.needs(0) ? unbroadcast(c.g, c.g.mul(dY(c), c.I(1)), c.I(0)) : undefined,
    c.needs(1) ? unbroadcast(c.g, c.g.mul(dY(c), c.I(0)), c.I(1)) : undefined,
  ],

  // dA = dY / B, dB = -dY * Y / B
  Div: (c) => [
    c.needs(0) ? unbroadcast(c.g, c.g.div(dY(c), c.I(1)), c.I(0)) : undefined,
    c.needs(1) ? unbroadcast(c.g, c.g.neg(c.g.div(c.g.mul(dY(c), c.O(0)), c.I(1))), c.I(1)) : undefined,
  ],

  // dA = dY * B * A^(B-1), dB = dY * Y * ln(A)
  Pow: (c) => {
    const { g } = c;
    const [a, b] = [c.I(0), c.I(1)];
    return [
      c.needs(0) ? unbroadcast(g, g.mul(dY(c), g.mul(b, g.pow(a, g.sub(b, scalar(g, b, 1))))), a) : undefined,
      c.needs(1) ? unbroadcast(g, g.mul(dY(c), g.mul(c.O(0), g.log(a))), b) : undefined,
    ];
  },

  // dX = -dY
  Neg: unary((c, d) => c.g.neg(d)),
  // dX = dY / (2 Y)
  Sqrt: unary((c, d) => c.g.div(c.g.mul(d, scalar(c.g, d, 0.5)), c.O(0))),
  // dX = dY * Y
  Exp: unary((c, d) => c.g.mul(d, c.O(0))),
  // dX = dY / X
  Log: unary((c, d) => c.g.div(d, c.I(0))),
  // dX = dY * (1 - Y²)
  Tanh: unary((c, d) => c.g.mul(d, c.g.sub(scalar(c.g, d, 1), c.g.mul(c.O(0), c.O(0))))),
  // dX = dY * 2/√π * exp(-X²)
  Erf: unary((c, d) => {
    const { g } = c;
    const x = c.I(0);
    return g.mul(d, g.mul(scalar(g, d, 2 / Math.sqrt(Math.PI)), g.exp(g.neg(g.mul(x, x)))));
  }),
  // com.microsoft FastGelu, y = u·σ(s), s = u·(a + b·u²), u = X (+ bias), a = 2√(2/π), b = 0.044715·a
  // (0.5·(1 + tanh z) = σ(2z)): dU = dY·σ·(1 + u·(1 − σ)·(a + 3b·u²)), σ recomputed from u.
  FastGelu: (c) => {
    const { g } = c;
    const hasBias = !!c.node.inputs[1];
    const u = hasBias ? g.add(c.I(0), c.I(1)) : c.I(0);
    const k = (v: number) => scalar(g, u, v);
    const a = 2 * Math.sqrt(2 / Math.PI);
    const b = 0.044715 * a;
    const u2 = g.mul(u, u);
    const sig = g.sigmoid(g.mul(u, g.add(k(a), g.mul(u2, k(b)))));
    const slope = g.add(k(a), g.mul(u2, k(3 * b)));
    const inner = g.add(k(1), g.mul(g.mul(u, g.sub(k(1), sig)), slope));
    const dU = g.mul(dY(c), g.mul(sig, inner));
    return [c.needs(0) ? dU : undefined, hasBias && c.needs(1) ? unbroadcast(g, dU, c.I(1)) : undefined];
  },

  // com.microsoft QuickGelu, y = x·σ(αx):  dX = dY·σ·(1 + αx·(1 − σ)) = q + α·q·(x − y), q = dY·σ,
  // σ recomputed from x (SiLU at α = 1: four passes and a Sigmoid, where Sigmoid and Mul took six).
  QuickGelu: (c) => {
    const { g } = c;
    const x = c.I(0);
    const alpha = floatAttr(c, 'alpha', 1.702);
    const q = g.mul(dY(c), g.sigmoid(alpha === 1 ? x : g.mul(x, scalar(g, x, alpha))));
    const spread = g.sub(x, c.O(0));
    return [g.add(q, g.mul(q, alpha === 1 ? spread : g.mul(spread, scalar(g, x, alpha))))];
  },

  // com.microsoft RotaryEmbedding rotates pairs of x by their positions' angles: the rotation's
  // transpose is the rotation by −θ, i.e. the same node with the sine table negated.
  RotaryEmbedding: (c) => {
    const { g } = c;
    if (!c.needs(0)) return [undefined];
    const d = dY(c);
    const inputs = [d, c.I(1), c.I(2), negatedTable(g, c.I(3))];
    return [
      g.node(
        'RotaryEmbedding',
        inputs,
        [{ dtype: d.dtype, shape: d.shape }],
        c.node.attrs,
        'com.microsoft',
      )[0],
    ];
  },

  // dX = dY * Y * (1 - Y)
  Sigmoid: unary((c, d) => c.g.mul(d, c.g.mul(c.O(0), c.g.sub(scalar(c.g, d, 1), c.O(0))))),
  // dX = -dY * Y²
  Reciprocal: unary((c, d) => c.g.neg(c.g.mul(d, c.g.mul(c.O(0), c.O(0))))),
  // dX = dY
  Identity: unary((_c, d) => d),
  // dX = cast(dY) back to X's type
  Cast: unary((c, d) => c.g.cast(d, c.I(0).dtype)),

  // dA = dY · Bᵀ, dB = Aᵀ · dY (batch axes summed where B was shared)
  MatMul: (c) => {
    const { g } = c;
    const [a, b] = [c.I(0), c.I(1)];
    const d = dY(c);
    const dA = c.needs(0) ? unbroadcast(g, g.matmul(d, transposeLast2(g, b)), a) : undefined;
    let dB: Tensor | undefined;
    if (c.needs(1)) {
      if (b.rank === 2 && a.rank > 2) {
        // A weight shared over batch and time: one [K, rows] x [rows, N] product instead of a batched one.
        const a2 = g.reshape(a, [-1, a.shape[a.rank - 1] as number]);
        const d2 = g.reshape(d, [-1, d.shape[d.rank - 1] as number]);
        dB = g.gemm(a2, d2, null, { transA: true });
      } else {
        dB = unbroadcast(g, g.matmul(transposeLast2(g, a), d), b);
      }
    }
    return [dA, dB];
  },

  // dA = dY · Wᵀ through Wᵀ's int8 copy (int8Product.ts)
  DynamicQuantizeMatMul: int8ProductRule,

  // Y = α·op(A)·op(B) + β·C:  d op(A) = α dY op(B)ᵀ,  d op(B) = α op(A)ᵀ dY,  dC = β dY
  Gemm: (c) => {
    const { g } = c;
    const [a, b] = [c.I(0), c.I(1)];
    const transA = intAttr(c, 'transA', 0) === 1;
    const transB = intAttr(c, 'transB', 0) === 1;
    const alpha = floatAttr(c, 'alpha', 1);
    const beta = floatAttr(c, 'beta', 1);
    const d = dY(c);
    const dA = !c.needs(0)
      ? undefined
      : transA
        ? g.gemm(b, d, null, { transA: transB, transB: true, alpha })
        : g.gemm(d, b, null, { transB: !transB, alpha });
    const dB = !c.needs(1)
      ? undefined
      : transB
        ? g.gemm(d, a, null, { transA: true, transB: transA, alpha })
        : g.gemm(a, d, null, { transA: !transA, alpha });
    // β = 1 (a bias, or an output accumulated into): dC is dY itself, no pass over it.
    const dC =
      c.node.inputs[2] && c.needs(2)
        ? unbroadcast(g, beta === 1 ? d : g.mul(d, scalar(g, d, beta)), c.I(2))
        : undefined;
    return [dA, dB, dC];
  },

  // dX = reshape(dY, shape(X))
  Reshape: reshapeBack,
  Unsqueeze: reshapeBack,
  Squeeze: reshapeBack,

  // dX = transpose(dY, perm⁻¹)
  Transpose: (c) => {
    const permAttr = c.node.attrs.perm;
    const x = c.I(0);
    const perm = permAttr?.kind === 'ints' ? permAttr.value : [...Array(x.rank).keys()].reverse();
    const inverse: number[] = [];
    perm.forEach((p, i) => (inverse[p] = i));
    return [c.g.transpose(dY(c), inverse)];
  },

  // dX = sum of dY over the broadcast axes
  Expand: (c) => [unbroadcast(c.g, dY(c), c.I(0))],

  // dData = scatter-add of dY rows at the gathered indices (axis 0, e.g. an embedding table)
  Gather: (c) => {
    const { g } = c;
    if (intAttr(c, 'axis', 0) !== 0) throw new Error('Gather gradient supports axis 0 only');
    const data = c.I(0);
    let indices = c.I(1);
    if (indices.dtype !== 'int64') indices = g.cast(indices, 'int64');
    const idx = g.unsqueeze(indices, [-1]);
    const dData = g.node(
      'ScatterND',
      [zerosLike(g, data), idx, dY(c)],
      [{ dtype: data.dtype, shape: data.shape }],
      {
        reduction: attr.string('add'),
      },
    )[0];
    return [dData];
  },

  // dX = Y · (dY − Σ dY·Y)
  Softmax: (c) => {
    const { g } = c;
    const axis = intAttr(c, 'axis', -1);
    const y = c.O(0);
    const d = dY(c);
    return [g.mul(y, g.sub(d, g.reduceSum(g.mul(d, y), [axis], true)))];
  },

  // dX = dY − exp(Y) · Σ dY
  LogSoftmax: (c) => {
    const { g } = c;
    const axis = intAttr(c, 'axis', -1);
    const d = dY(c);
    return [g.sub(d, g.mul(g.exp(c.O(0)), g.reduceSum(d, [axis], true)))];
  },

  // x̂ = (X − μ)·r;  dScale = Σ dY·x̂;  dBias = Σ dY;  dX = r·(dY·s − mean(dY·s) − x̂·mean(dY·s·x̂))
  LayerNormalization: normRule(true),
  // RMSNorm: x̂ = X·r, r = 1/√(mean(X²) + ε);  dScale = Σ dY·x̂;  dX = r·(dY·s − x̂·mean(dY·s·x̂))
  SimplifiedLayerNormalization: normRule(false),

  ReduceSum: reduction(false),
  ReduceMean: reduction(true),

  // dA = where(cond, dY, 0), dB = where(cond, 0, dY)
  Where: (c) => {
    const { g } = c;
    const d = dY(c);
    const zero = scalar(g, d, 0);
    return [
      undefined,
      c.needs(1) ? unbroadcast(g, g.where(c.I(0), d, zero), c.I(1)) : undefined,
      c.needs(2) ? unbroadcast(g, g.where(c.I(0), zero, d), c.I(2)) : undefined,
    ];
  },

  // dXᵢ = the slice of dY that Xᵢ filled
  Concat: (c) => {
    const { g } = c;
    const axis = intAttr(c, 'axis', 0);
    const xs = c.node.inputs as Tensor[];
    const ax = normAxis(axis, xs[0].rank);
    const sizes = xs.map((x) => x.shape[ax]);
    const sizeTensor = sizes.every((s) => typeof s === 'number')
      ? g.ints(sizes as number[])
      : g.concat(
          xs.map((x) => g.gather(g.shapeOf(x), g.ints([ax]))),
          0,
        );
    const outs = xs.map((x) => ({ dtype: x.dtype, shape: x.shape }));
    return g.node('Split', [dY(c), sizeTensor], outs, { axis: attr.int(axis) });
  },

  // dX = concat(dYᵢ, zeros where an output was unused)
  Split: (c) => {
    const { g } = c;
    const parts = c.node.outputs.map((o, i) => c.GO(i) ?? zerosLike(g, o));
    return [g.concat(parts, intAttr(c, 'axis', 0))];
  },

  // dX = dY padded with zeros back to X's extent (steps of 1; constant starts and ends)
  Slice: (c) => {
    const { g } = c;
    const x = c.I(0);
    if (c.node.inputs[4] && constantValues(g, c.I(4)).some((s) => s !== 1))
      throw new Error('Slice gradient: steps of 1 only');
    const axes = c.node.inputs[3]
      ? constantValues(g, c.I(3))
      : [...Array(constantValues(g, c.I(1)).length).keys()];
    const dims = g.gather(g.shapeOf(x), g.ints(axes));
    const zero = g.ints(axes.map(() => 0));
    const clampToDim = (t: Tensor) => {
      const wrapped = g.where(g.less(t, zero), g.add(t, dims), t);
      return g.node(
        'Min',
        [g.node('Max', [wrapped, zero], [{ dtype: 'int64', shape: t.shape }])[0], dims],
        [{ dtype: 'int64', shape: t.shape }],
      )[0];
    };
    const begin = clampToDim(c.I(1));
    // An empty range (start ≥ end after clamping) pads to begin + (dim − begin) = dim, not more.
    const end = g.node('Max', [clampToDim(c.I(2)), begin], [{ dtype: 'int64', shape: begin.shape }])[0];
    const pads = g.concat([begin, g.sub(dims, end)], 0);
    const dX = g.node('Pad', [dY(c), pads, null, g.ints(axes)], [{ dtype: x.dtype, shape: x.shape }])[0];
    return [dX];
  },

  // Per-row cross-entropy L = −log softmax(S)[label]:  dS = (softmax(S) − onehot(label))·dL  (+ the log-prob path)
  SoftmaxCrossEntropyLoss: (c) => {
    const { g } = c;
    if (c.node.attrs.ignore_index)
      throw new Error('SoftmaxCrossEntropyLoss gradient: use loss weights, not ignore_index');
    const reduction = c.node.attrs.reduction;
    if (reduction?.kind !== 'string' || reduction.value !== 'none')
      throw new Error('SoftmaxCrossEntropyLoss gradient: reduction none only');
    const logProb = c.O(1);
    const prob = g.exp(logProb);
    let dS: Tensor | null = null;
    const dLoss = c.GO(0);
    if (dLoss) {
      const dCol = g.unsqueeze(dLoss, [1]); // [N, 1]
      const labels = g.unsqueeze(c.I(1).dtype === 'int64' ? c.I(1) : g.cast(c.I(1), 'int64'), [1]);
      dS = g.node(
        'ScatterElements',
        [g.mul(prob, dCol), labels, g.neg(dCol)],
        [{ dtype: prob.dtype, shape: prob.shape }],
        {
          axis: attr.int(1),
          reduction: attr.string('add'),
        },
      )[0];
    }
    const dLogProb = c.GO(1);
    if (dLogProb) {
      const viaLogProb = g.sub(dLogProb, g.mul(prob, g.reduceSum(dLogProb, [1], true)));
      dS = dS ? g.add(dS, viaLogProb) : viaLogProb;
    }
    return [dS, undefined];
  },
};
