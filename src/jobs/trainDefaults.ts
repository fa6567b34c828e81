/**
 * Defaults that protect the user's model, applied by trainOptionsFrom for the CLI and the editor
 * alike: a peak learning rate chosen by the model's size and the mode (a rate that suits a
 * 10M-parameter LoRA run overshoots on a 1B model, and full fine-tuning moves every weight, so it
 * needs a much smaller one), evaluation during training with the best step kept and early stopping,
 * and a held-out share of plain files sized by tokens.
 */
import { DEFAULT_HOLDOUT_FLOOR } from '../data/split';

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

/** The bands for help texts, one line each: `up to 50M parameters: LoRA 3e-4, full 1e-4`. */
export function learningRateBands(): string[] {
  const size = (n: number) => (n >= 1e9 ? `${n / 1e9}B` : `${n / 1e6}M`);
  return LR_BANDS.map((b, i) => {
    const upTo = b.upTo === Infinity ? `above ${size(LR_BANDS[i - 1].upTo)}` : `up to ${size(b.upTo)}`;
    return `${upTo} parameters: LoRA ${b.lora.toExponential()}, full ${b.full.toExponential()}`;
  });
}

/**
 * LoRA holds the frozen base in int8 from this size up (bench/train.ts, bench/quality/int8.ts): the
 * held-out loss stays within 0.01% of a float32 base, and the step is 1.9x float32's at gpt2-small,
 * 1.7x at SmolLM2-135M's shape and ~1.35x on the 18M-parameter starter. Smaller (toy and test)
 * models keep float32: exact results, and products too small for the int8 kernels to matter.
 */
export const INT8_BASE_FROM_PARAMETERS = 10e6;

/** The frozen base's dtype when the user did not choose: int8 for LoRA on a model that large. */
export function defaultBaseDtype(mode: 'lora' | 'full', parameters: number | null): 'fp32' | 'int8' {
  return mode === 'lora' && (parameters ?? 0) >= INT8_BASE_FROM_PARAMETERS ? 'int8' : 'fp32';
}

/** Evaluations during training, keep-best and early stopping on unless the user turns them off. */
export const PROTECTIVE_DEFAULTS = { evalEvery: 25, patience: 3, keepBest: true } as const;

/** What the user asked for (undefined: not asked) of the settings the protective defaults fill. */
export interface ProtectedSettings {
  lr?: number;
  evalEvery?: number;
  /** 0 turns early stopping off. */
  patience?: number;
  keepBest?: boolean;
}

/**
 * A fine-tuning run's protective settings: each the user's when given, else the default. Early
 * stopping and keep-best need evaluations, so without a validation set they stay off (a patience
 * the user asked for then still fails in the trainer's plan, with its message).
 */
export function protectiveSettings(
  asked: ProtectedSettings,
  run: { mode: 'lora' | 'full'; parameters: number | null; hasValidation: boolean },
): Required<ProtectedSettings> {
  const evalEvery = asked.evalEvery ?? PROTECTIVE_DEFAULTS.evalEvery;
  const evaluates = run.hasValidation && evalEvery > 0;
  return {
    lr: asked.lr ?? defaultLearningRate(run.mode, run.parameters),
    evalEvery,
    patience: asked.patience ?? (evaluates ? PROTECTIVE_DEFAULTS.patience : 0),
    keepBest: asked.keepBest ?? (evaluates && PROTECTIVE_DEFAULTS.keepBest),
  };
}

/** Held-out share of plain files (they have no split of their own): 5%, topped up to the floor. */
const PLAIN_HOLDOUT_SHARE = 0.05;

/**
 * Tokens to hold out at the tail of plain files: 5% topped up to the floor's tokens, never above its
 * share; 0 when either side would be shorter than one sequence (nothing could be evaluated, or trained).
 */
export function plainHoldOutTokens(total: number, seqLen: number): number {
  const wanted = Math.max(Math.ceil(total * PLAIN_HOLDOUT_SHARE), DEFAULT_HOLDOUT_FLOOR.minTokens);
  const held = Math.min(wanted, Math.floor(total * DEFAULT_HOLDOUT_FLOOR.maxShare));
  return held > seqLen && total - held > seqLen ? held : 0;
}
