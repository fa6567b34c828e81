/**
 * Defaults that protect the user's model: a peak learning rate chosen by the model's size and the
 * mode (a rate that suits a 10M-parameter LoRA run overshoots on a 1B model, and full fine-tuning
 * moves every weight, so it needs a much smaller one), and evaluation with the best step kept.
 */

/** Largest parameter count of each band, with its LoRA and full fine-tuning peak learning rates. */
const LR_BANDS: { upTo: number; lora: number; full: number }[] = [
  { upTo: 50e6, lora: 3e-4, full: 1e-4 },
  { upTo: 500e6, lora: 2e-4, full: 5e-5 },
  { upTo: 2e9, lora: 1e-4, full: 2e-5 },
  { upTo: Infinity, lora: 5e-5, full: 1e-5 },
];

/** The peak learning rate for a model of `parameters` (unknown size: the middle band's). */
export function defaultLearningRate(mode: 'lora' | 'full', parameters: number | null): number {
  const band = LR_BANDS.find((b) => (parameters ?? 100e6) <= b.upTo)!;
  return band[mode];
}

/** Evaluations during training, keep-best and early stopping on unless the user turns them off. */
export const PROTECTIVE_DEFAULTS = { evalEvery: 25, patience: 3, keepBest: true } as const;
