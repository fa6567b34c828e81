/**
 * Choosing the next token from logits [V]: greedy (argmax) when temperature is 0, else a draw from
 * softmax(logits / temperature) restricted to the smallest set of tokens whose probability reaches
 * top_p (nucleus sampling), with a seeded generator so a seed reproduces a run.
 */
import { Rng } from '../rng';

export interface SamplingOptions {
  /** 0 (default): greedy. */
  temperature?: number;
  /** Nucleus mass in (0, 1]; 1 (default) keeps every token. */
  topP?: number;
}

export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

export function sampleToken(logits: ArrayLike<number>, o: SamplingOptions, rng: Rng): number {
  const temperature = o.temperature ?? 0;
  if (temperature <= 0) return argmax(logits);
  const topP = o.topP ?? 1;
  const V = logits.length;
  let max = -Infinity;
  for (let i = 0; i < V; i++) max = Math.max(max, logits[i]);
  const probs = new Float64Array(V);
  let sum = 0;
  for (let i = 0; i < V; i++) sum += probs[i] = Math.exp((logits[i] - max) / temperature);
  let order: number[];
  let mass = sum;
  if (topP < 1) {
    order = Array.from({ length: V }, (_, i) => i).sort((a, b) => probs[b] - probs[a]);
    let kept = 0;
    let cumulative = 0;
    while (kept < V && cumulative < topP * sum) cumulative += probs[order[kept++]];
    order = order.slice(0, Math.max(1, kept));
    mass = cumulative;
  } else {
    order = Array.from({ length: V }, (_, i) => i);
  }
  let u = rng.next() * mass;
  for (const i of order) {
    u -= probs[i];
    if (u < 0) return i;
  }
  return order[order.length - 1];
}
