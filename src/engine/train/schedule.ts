/** Learning rate: linear warmup from 0, then cosine decay to `minRatio`·peak at the last step. */
export function learningRate(
  step: number,
  o: { peak: number; warmup: number; total: number; minRatio?: number },
): number {
  const minRatio = o.minRatio ?? 0.1;
  if (o.warmup > 0 && step < o.warmup) return (o.peak * (step + 1)) / o.warmup;
  const span = Math.max(1, o.total - o.warmup);
  const progress = Math.min(1, (step - o.warmup) / span);
  return o.peak * (minRatio + (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}
