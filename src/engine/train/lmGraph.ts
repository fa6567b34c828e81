/**
 * The causal-LM graph used for training and scoring: model forward, tied LM head, per-token
 * weighted cross-entropy, and (for training) the backward pass to every trainable tensor.
 *
 * Inputs: input_ids [B, T] int64, labels [B, T] int64 (the next token at each position),
 * loss_weights [B, T] (0 for padding and prompt tokens), loss_scale [] (1 / weighted tokens in the
 * whole optimizer step, so micro-batch gradients add up to the step's mean).
 * Outputs: loss = Σ w·CE · loss_scale, token_logprobs [B·T] (log P(label)), grad.<name> per trainable.
 * With `accumulates`, also inputs grad_in.<name>: each grad.<name> is then grad_in + this batch's
 * gradient, and the caller feeds and fetches one buffer (autodiff/accumulate.ts).
 */
import { attr, Graph, type Tensor } from '../onnx/builder';
import { dropUnusedInitializers } from '../onnx/int8';
import { accumulateGradients } from '../autodiff/accumulate';
import { gradients } from '../autodiff/backward';
import type { LoadedModel } from '../models';
import { ModelParams, type ParamOptions, type Trainable } from '../models/params';

export interface LmGraph {
  graph: Graph;
  trainables: Trainable[];
}

export function buildLmGraph(
  model: LoadedModel,
  o: ParamOptions & { withGradients: boolean; accumulates?: boolean },
): LmGraph {
  const dtype = o.dtype ?? 'float32';
  const g = new Graph();
  const ids = g.input('input_ids', 'int64', ['B', 'T']);
  const labels = g.input('labels', 'int64', ['B', 'T']);
  const weights = g.input('loss_weights', dtype, ['B', 'T']);
  const scale = g.input('loss_scale', dtype, []);
  const p = new ModelParams(g, model.weights, { ...o, training: o.withGradients });

  const hidden = model.family.hidden(g, model.config, p, ids); // [B, T, C]
  const width = hidden.shape[2] as number;
  const rows = g.reshape(hidden, [-1, width]); // [N, C], N = B·T
  const headName = model.family.headName(model.config);
  const logits = p.head(rows, headName); // [N, V]
  // CE = −log softmax(logits)[label], as LogSoftmax over the last axis and a Gather of each row's
  // label from the flattened log-probs. Not SoftmaxCrossEntropyLoss: ORT expands that function to
  // a LogSoftmax over axis 1 of [N, V, 1], which it runs through transposes (2.5x slower).
  const flatLabels = g.reshape(labels, [-1]); // [N]
  const vocab = logits.shape[1] as number;
  const int = (v: number) => g.constant(v, 'int64', []);
  const n = g.gather(g.shapeOf(flatLabels), int(0));
  const rowStart = g.mul(g.range(int(0), n, int(1), flatLabels.shape[0]), int(vocab)); // [N]
  const logSoftmax = g.logSoftmax(logits, -1); // [N, V]
  const logProbs = g.reshape(logSoftmax, [-1]); // [N·V]
  const tokenLogprobs = g.gather(logProbs, g.add(rowStart, flatLabels)); // [N]
  const ce = g.neg(tokenLogprobs);
  const weighted = g.mul(ce, g.reshape(weights, [-1]));
  const loss = g.mul(g.reduceSum(weighted, [0]), scale);
  g.output(loss, 'loss');
  g.output(g.identity(tokenLogprobs), 'token_logprobs');

  if (o.withGradients) {
    const col = g.unsqueeze(g.mul(g.reshape(weights, [-1]), scale), [1]); // [N, 1]: wᵢ·scale
    const wrt = p.trainables.map((t) => t.tensor);
    // dloss/dlogits = (softmax − onehot(label))·wᵢ·scale per row, never built: it is the largest
    // tensor of the step ([N, V]), and making it took a Mul and a ScatterElements over all of it.
    // Its two products are taken apart instead, with the one-hot terms as rows of the head:
    //   dRows = col ⊙ (softmax·W − W[label]),  dW = softmaxᵀ·(col ⊙ rows) − Σ col ⊙ rows at each label.
    // An int8 head's input gradient goes through its float32 weight too (autodiff/int8Product.ts).
    const head = p.weight(headName); // [V, C]
    const trainsHead = wrt.includes(head);
    // A trained head's softmax is taken in vocabulary slices (see vocabSlices).
    const slices = trainsHead ? vocabSlices(vocab) : [vocab];
    const sliced = slices.length > 1;
    const probs = (sliced ? g.split(logSoftmax, slices, 1) : [logSoftmax]).map((x) => g.exp(x)); // [N, Vᵢ]
    const heads = sliced ? g.split(head, slices, 0) : [head]; // [Vᵢ, C]
    let softmaxHead: Tensor | null = null; // Σᵢ probsᵢ·headᵢ = softmax·W [N, C]
    probs.forEach((x, i) => (softmaxHead = g.gemm(x, heads[i], softmaxHead, softmaxHead ? { beta: 1 } : {})));
    const dRows = g.mul(g.sub(softmaxHead!, g.gather(head, flatLabels)), col);
    const known: [Tensor, Tensor][] = [];
    if (trainsHead) {
      const weightedRows = g.mul(rows, col); // [N, C]
      const products = probs.map((x) => g.gemm(x, weightedRows, null, { transA: true })); // [Vᵢ, C]
      const dHead = g.node(
        'ScatterND',
        [sliced ? g.concat(products, 0) : products[0], g.unsqueeze(flatLabels, [1]), g.neg(weightedRows)],
        [{ dtype: head.dtype, shape: head.shape }],
        { reduction: attr.string('add') },
      )[0];
      known.push([head, dHead]);
    }
    let grads = gradients(g, rows, wrt, dRows, known);
    if (o.accumulates) grads = accumulateGradients(g, grads);
    for (const t of p.trainables) g.output(grads.get(t.name)!, `grad.${t.name}`);
  }
  // Float32 weights replaced by int8 copies (a scoring graph's untied head among them).
  dropUnusedInitializers(g);
  return { graph: g, trainables: p.trainables };
}

/**
 * Widths of the vocabulary slices a trained head's softmax is taken in: ~2,000 columns each, none
 * a multiple of 4 KiB of float32 (see models/common.ts stridePad). The head's weight gradient
 * softmaxᵀ·rows has the softmax as its transposed operand, which the SGEMM re-reads once per 128
 * output columns; a slice's [N, Vᵢ] stays in cache where the whole [N, V] (206 MB at gpt2-small)
 * came from memory each time. gpt2-small's Exp, softmax·W and softmaxᵀ·rows together, with the
 * Split of the log-softmax and the head and the Concat of the slices' gradients: 622 -> 556 ms.
 */
export function vocabSlices(vocab: number): number[] {
  const count = Math.ceil(vocab / 2000);
  let width = Math.ceil(vocab / count);
  if ((width * 4) % 4096 === 0) width += 1;
  const slices: number[] = [];
  for (let at = 0; at < vocab; at += width) slices.push(Math.min(width, vocab - at));
  return slices;
}
