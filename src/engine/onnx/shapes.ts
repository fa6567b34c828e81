/**
 * Shape arithmetic over partly symbolic dimensions. A symbolic dimension is a product of named
 * factors written canonically ("B*T", "3*T"), so shapes from Reshape(-1) can be compared by string.
 */
import type { Dim } from './proto';

type Factored = { coef: number; syms: string[] };

function factor(d: Dim): Factored {
  if (typeof d === 'number') return { coef: d, syms: [] };
  let coef = 1;
  const syms: string[] = [];
  for (const part of d.split('*')) {
    if (/^\d+$/.test(part)) coef *= Number(part);
    else syms.push(part);
  }
  return { coef, syms };
}

function unfactor(f: Factored): Dim {
  if (f.syms.length === 0) return f.coef;
  const syms = [...f.syms].sort();
  return f.coef === 1 ? syms.join('*') : `${f.coef}*${syms.join('*')}`;
}

export function dimProduct(dims: readonly Dim[]): Dim {
  const f: Factored = { coef: 1, syms: [] };
  for (const d of dims) {
    const x = factor(d);
    f.coef *= x.coef;
    f.syms.push(...x.syms);
  }
  return unfactor(f);
}

/** a / b, or undefined when b's factors are not all in a. */
export function dimDivide(a: Dim, b: Dim): Dim | undefined {
  const fa = factor(a);
  const fb = factor(b);
  if (fb.coef === 0 || fa.coef % fb.coef !== 0) return undefined;
  const syms = [...fa.syms];
  for (const s of fb.syms) {
    const i = syms.indexOf(s);
    if (i < 0) return undefined;
    syms.splice(i, 1);
  }
  return unfactor({ coef: fa.coef / fb.coef, syms });
}

export function sameDim(a: Dim, b: Dim): boolean {
  return unfactor(factor(a)) === unfactor(factor(b));
}

/** Numpy-style broadcast of two shapes. Differing symbolic dims are assumed equal (the runtime checks). */
export function broadcastShapes(a: readonly Dim[], b: readonly Dim[]): Dim[] {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da === 1) out.push(db);
    else if (db === 1) out.push(da);
    else if (typeof da === 'number' && typeof db === 'number' && da !== db)
      throw new Error(`cannot broadcast [${a}] with [${b}]`);
    else out.push(typeof da === 'number' ? da : db);
  }
  return out;
}

/**
 * Axes along which `input` was broadcast to reach `output`: leading axes it lacks, and axes
 * where it has 1 and the output does not. Summing the gradient over them undoes the broadcast.
 */
export function broadcastAxes(input: readonly Dim[], output: readonly Dim[]): number[] {
  const lead = output.length - input.length;
  const axes: number[] = [];
  for (let i = 0; i < output.length; i++) {
    if (i < lead) axes.push(i);
    else if (input[i - lead] === 1 && output[i] !== 1) axes.push(i);
  }
  return axes;
}

export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** Output shape of Reshape with ONNX's 0 (copy) and -1 (infer) conventions. */
export function reshapeShape(input: readonly Dim[], spec: readonly number[]): Dim[] {
  const out: (Dim | null)[] = spec.map((s, i) => (s === 0 ? input[i] : s === -1 ? null : s));
  const inferred = out.indexOf(null);
  if (inferred >= 0) {
    const known = dimProduct(out.filter((d): d is Dim => d !== null));
    const rest = dimDivide(dimProduct(input), known);
    out[inferred] = rest ?? `reshape${spec.length}_${inferred}`;
  }
  return out as Dim[];
}
