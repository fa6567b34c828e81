/**
 * Reading onnxruntime's profiler output: the last run's kernel times, summed per op type and per
 * (op, input shapes), and the slowest nodes. Shared by the training-step and decoder profilers.
 */
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string; output_type_shape?: unknown; input_type_shape?: unknown };
}

/**
 * The node events of the last `model_run` in the newest `<prefix>*.json` of `dir` (onnxruntime-node's
 * endProfiling returns no path), with that run's wall time; the file is removed. Only the last run
 * counts: the first pays for allocation.
 */
export function lastRunProfile(dir: string, prefix: string): { nodes: ProfileEvent[]; runMs: number } {
  const file = readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.json'))
    .map((f) => join(dir, f))
    .sort()
    .at(-1);
  if (!file) throw new Error(`no onnxruntime profile ${prefix}*.json in ${dir}`);
  const events = JSON.parse(readFileSync(file, 'utf8')) as ProfileEvent[];
  rmSync(file, { force: true });
  const last = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').at(-1)!;
  const nodes = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time') && e.ts >= last.ts);
  return { nodes, runMs: last.dur / 1000 };
}

/** Kernel time per op type, per (op, input shapes) and the `top` slowest nodes. */
export function summarizeProfile(nodes: ProfileEvent[], o: { top: number; signatures: number }) {
  const tally = (key: (e: ProfileEvent) => string) => {
    const m = new Map<string, { us: number; count: number }>();
    for (const e of nodes) {
      const s = m.get(key(e)) ?? { us: 0, count: 0 };
      s.us += e.dur;
      s.count++;
      m.set(key(e), s);
    }
    return [...m].sort((a, b) => b[1].us - a[1].us);
  };
  const total = nodes.reduce((a, e) => a + e.dur, 0);
  const shapeList = (list: unknown) =>
    ((list as Record<string, number[]>[] | undefined) ?? [])
      .map((s) => Object.values(s)[0]?.join('x'))
      .join(', ');
  // Initializers are not listed among a node's inputs, so the output shape tells e.g. a product's width.
  const shapes = (e: ProfileEvent) =>
    `${shapeList(e.args?.input_type_shape)} -> ${shapeList(e.args?.output_type_shape)}`;
  return {
    kernel_ms: Math.round(total / 1000),
    nodes: nodes.length,
    by_op: tally((e) => e.args?.op_name ?? '?').map(([op, s]) => ({
      op,
      ms: Math.round(s.us / 100) / 10,
      pct: Math.round((1000 * s.us) / total) / 10,
      count: s.count,
    })),
    // Which kind of node the time goes to.
    by_signature: tally((e) => `${e.args?.op_name} ${shapes(e)}`)
      .slice(0, o.signatures)
      .map(([sig, s]) => `${(s.us / 1000).toFixed(1)} ms  x${s.count}  ${sig}`),
    slowest: [...nodes]
      .sort((a, b) => b.dur - a.dur)
      .slice(0, o.top)
      .map((e) => ({
        node: e.name.replace(/_kernel_time$/, ''),
        op: e.args?.op_name,
        ms: Math.round(e.dur / 100) / 10,
        in: e.args?.input_type_shape,
        out: e.args?.output_type_shape,
      })),
  };
}
