/**
 * Float64 finite-difference check of the autodiff: builds `f` in double precision, appends the
 * backward pass of L = Σ f(x)·R (R random, fixed, fed as an input), and compares every analytic
 * gradient entry with the central difference (L(x+h) − L(x−h)) / 2h computed by the same ONNX
 * Runtime. Shapes may name symbolic dims ('B', 'T'): the graph is built once with them and run
 * once per binding in `sizes`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Dim, Graph, type Tensor } from '../../../src/engine/onnx/builder';
import { gradients } from '../../../src/engine/autodiff/backward';
import { createSession, toOrt } from '../../../src/engine/onnx/session';
import { Rng } from '../../../src/engine/rng';

export interface CheckInput {
  name: string;
  /** The shape the graph is built with; symbolic dims are bound by the `sizes` option. */
  shape: readonly Dim[];
  /** Values to use (or a function of the element count); random normal when absent. */
  values?: number[] | ((count: number) => number[]);
  /** Integer inputs (indices, labels) take no gradient. */
  dtype?: 'float64' | 'int64';
  /** False for inputs that get no gradient (e.g. a frozen weight). */
  grad?: boolean;
}

export interface CheckOptions {
  tolerance?: number;
  h?: number;
  seed?: number;
  /** One binding of the symbolic dims per run (default: one run, all dims numeric). */
  sizes?: Record<string, number>[];
}

/** A dim under a binding; symbolic dims are products of names and numbers ("B*T", "3*T"). */
function resolve(d: Dim, sizes: Record<string, number>): number {
  if (typeof d === 'number') return d;
  return d.split('*').reduce((p, f) => {
    const v = /^\d+$/.test(f) ? Number(f) : sizes[f];
    if (v === undefined) throw new Error(`no size for symbolic dim ${f}`);
    return p * v;
  }, 1);
}

/** Returns the worst relative error |numeric − analytic| / max(1, |numeric|) over all entries. */
export async function gradCheck(
  inputs: CheckInput[],
  f: (g: Graph, xs: Tensor[]) => Tensor,
  { tolerance = 1e-7, h = 1e-6, seed = 1, sizes = [{}] }: CheckOptions = {},
): Promise<number> {
  const rng = new Rng(seed);
  const g = new Graph();
  const xs = inputs.map((i) => g.input(i.name, i.dtype ?? 'float64', i.shape));
  const y = f(g, xs);
  const r = g.input('R', 'float64', y.shape);
  const loss = g.reduceSum(g.mul(y, r), [...Array(y.rank).keys()]);
  g.output(loss, 'loss');
  const wrt = xs.filter((_, i) => (inputs[i].dtype ?? 'float64') === 'float64' && inputs[i].grad !== false);
  const grads = gradients(g, loss, wrt);
  for (const w of wrt) g.output(grads.get(w.name)!, `grad_${w.name}`);
  const session = await createSession(g.toBytes(), { threads: 1 });

  let worst = 0;
  for (const binding of sizes) {
    const dims = inputs.map((i) => i.shape.map((d) => resolve(d, binding)));
    const count = (s: number[]) => s.reduce((a, b) => a * b, 1);
    const values = inputs.map((i, k) => {
      const n = count(dims[k]);
      const v =
        typeof i.values === 'function'
          ? i.values(n)
          : (i.values ?? Array.from({ length: n }, () => rng.normal()));
      return i.dtype === 'int64' ? BigInt64Array.from(v.map((x) => BigInt(x))) : Float64Array.from(v);
    });
    const rShape = y.shape.map((d) => resolve(d, binding));
    const rValues = Float64Array.from({ length: count(rShape) }, () => rng.normal());
    const feeds = () => ({
      R: toOrt('float64', rValues, rShape),
      ...Object.fromEntries(inputs.map((i, k) => [i.name, toOrt(i.dtype ?? 'float64', values[k], dims[k])])),
    });
    const out = await session.run(feeds());
    const lossAt = async () => ((await session.run(feeds())).loss.data as Float64Array)[0];

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
        assert.ok(
          err < tolerance,
          `d loss / d ${w.name}[${j}] (sizes ${JSON.stringify(binding)}): analytic ${analytic[j]} vs numeric ${numeric}`,
        );
      }
    }
  }
  return worst;
}

/** A test that runs one gradient check and reports its worst relative error. */
export function gradTest(
  name: string,
  inputs: CheckInput[],
  f: (g: Graph, xs: Tensor[]) => Tensor,
  options?: CheckOptions,
): void {
  test(name, async (t) => {
    const worst = await gradCheck(inputs, f, options);
    t.diagnostic(`worst relative error ${worst.toExponential(2)}`);
  });
}
