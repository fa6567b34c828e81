/** What a training run reports, step by step: metrics.jsonl lines, `--json` output, worker messages. */
export type TrainEvent =
  | {
      type: 'start';
      totalSteps: number;
      startStep: number;
      trainable: number;
      mode: 'lora' | 'full';
      /** How the frozen base weights are held (LoRA): fp32, or int8 for the integer GEMMs (absent in older runs). */
      baseDtype?: 'fp32' | 'int8';
      trainWindows: number;
      seqLen: number;
    }
  | {
      type: 'step';
      step: number;
      totalSteps: number;
      loss: number;
      lr: number;
      gradNorm: number;
      tokens: number;
      tokensPerSec: number;
      elapsed: number;
    }
  | {
      type: 'eval';
      step: number;
      evalLoss: number;
      /** The lowest evaluation loss so far (kept in `<run>/best/` when the best is kept). */
      best?: boolean;
    }
  | { type: 'checkpoint'; step: number; dir: string }
  | { type: 'log'; level: 'info' | 'warn'; message: string }
  | {
      type: 'done';
      step: number;
      /** 'failed' is never emitted by the trainer: the host reports a crashed or killed worker with it. */
      reason: 'finished' | 'stopped' | 'failed';
      outDir: string;
      finalDir: string;
      bestEvalLoss: number | null;
      /** The step of the best evaluation, when there was one. */
      bestStep?: number | null;
      /** Early stopping ended the run: `patience` evaluations in a row did not beat the best. */
      earlyStopped?: boolean;
      /** Which parameters `finalDir` holds: the last step's, or the best evaluation's. */
      finalIs?: 'last' | 'best';
    };
