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

/** log softmax(logits)[id], computed stably (the largest logit subtracted first). */
export function logProbability(logits: ArrayLike<number>, id: number): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  return logits[id] - max - Math.log(sum);
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
  if (topP >= 1) {
    let u = rng.next() * sum;
    for (let i = 0; i < V; i++) if ((u -= probs[i]) < 0) return i;
    return V - 1;
  }
  const { ids, mass } = nucleus(probs, topP * sum);
  let u = rng.next() * mass;
  for (const i of ids) if ((u -= probs[i]) < 0) return i;
  return ids[ids.length - 1];
}

/**
 * The smallest set of most probable tokens whose mass reaches `target`, most probable first (ties
 * by id), and its mass. Sorting every token took ~0.3–1 s per token at a 49k vocabulary, so only
 * the tokens above a threshold are sorted: the threshold falls until their mass reaches the target,
 * and the nucleus, being the most probable tokens, lies within them.
 */
function nucleus(probs: Float64Array, target: number): { ids: number[]; mass: number } {
  let top = 0;
  for (let i = 0; i < probs.length; i++) top = Math.max(top, probs[i]);
  let candidates: number[] = [];
  for (let threshold = top / 64; ; threshold /= 64) {
    candidates = [];
    let mass = 0;
    for (let i = 0; i < probs.length; i++)
      if (probs[i] >= threshold) {
        candidates.push(i);
        mass += probs[i];
      }
    if (mass >= target || threshold === 0) break;
  }
  candidates.sort((a, b) => probs[b] - probs[a] || a - b);
  let kept = 0;
  let mass = 0;
  while (kept < candidates.length && mass < target) mass += probs[candidates[kept++]];
  return { ids: candidates.slice(0, Math.max(1, kept)), mass };
}
