/**
 * Float64 finite-difference check of the autodiff: builds `f` in double precision, appends the
 * backward pass of L = Σ f(x)·R (R random, fixed), and compares every analytic gradient entry
 * with the central difference (L(x+h) − L(x−h)) / 2h computed by the same ONNX Runtime.
 */
import assert from 'node:assert/strict';
import { Graph, type Tensor } from '../../../src/engine/onnx/builder';
import { gradients } from '../../../src/engine/autodiff/backward';
import { createSession, toOrt } from '../../../src/engine/onnx/session';
import { Rng } from '../../../src/engine/rng';

export interface CheckInput {
  name: string;
  shape: number[];
  /** Values to use; random normal when absent. */
  values?: number[];
  /** Integer inputs (indices, labels) take no gradient. */
  dtype?: 'float64' | 'int64';
  /** False for inputs that get no gradient (e.g. a frozen weight). */
  grad?: boolean;
}

export async function gradCheck(
  inputs: CheckInput[],
  f: (g: Graph, xs: Tensor[]) => Tensor,
  { tolerance = 1e-7, h = 1e-6, seed = 1 } = {},
): Promise<number> {
  const rng = new Rng(seed);
  const g = new Graph();
  const xs = inputs.map((i) => g.input(i.name, i.dtype ?? 'float64', i.shape));
  const y = f(g, xs);
  const size = (y.shape as number[]).reduce((a, b) => a * b, 1);
  const r = g.initializer(
    'R',
    Float64Array.from({ length: size }, () => rng.normal()),
    y.shape as number[],
  );
  const loss = g.reduceSum(g.mul(y, r), [...Array(y.rank).keys()]);
  g.output(loss, 'loss');
  const wrt = xs.filter((_, i) => (inputs[i].dtype ?? 'float64') === 'float64' && inputs[i].grad !== false);
  const grads = gradients(g, loss, wrt);
  for (const w of wrt) g.output(grads.get(w.name)!, `grad_${w.name}`);
  const session = await createSession(g.toBytes(), { threads: 1 });

  const values = inputs.map((i) => {
    const n = i.shape.reduce((a, b) => a * b, 1);
    const v = i.values ?? Array.from({ length: n }, () => rng.normal());
    return i.dtype === 'int64' ? BigInt64Array.from(v.map((x) => BigInt(x))) : Float64Array.from(v);
  });
  const feeds = () =>
    Object.fromEntries(inputs.map((i, k) => [i.name, toOrt(i.dtype ?? 'float64', values[k], i.shape)]));
  const out = await session.run(feeds());
  const lossAt = async () => ((await session.run(feeds())).loss.data as Float64Array)[0];

  let worst = 0;
  for (const w of wrt) {
    const k = inputs.findIndex((i) => i.name === w.name);
    const x = values[k] as Float64Array;
    const analytic = out[`grad_${w.name}`].data as Float64Array;
    assert.equal(analytic.length, x.length, `gradient of ${w.name} has the input's size`);
    for (let j = 0; j < x.length; j++) {
      const keep = x[j];
      x[j] = keep + h;
      const up = await lossAt();
      x[j] = keep - h;
      const down = await lossAt();
      x[j] = keep;
      const numeric = (up - down) / (2 * h);
      const err = Math.abs(numeric - analytic[j]) / Math.max(1, Math.abs(numeric));
      worst = Math.max(worst, err);
      assert.ok(err < tolerance, `d loss / d ${w.name}[${j}]: analytic ${analytic[j]} vs numeric ${numeric}`);
    }
  }
  return worst;
}
