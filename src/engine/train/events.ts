/** What a training run reports, step by step: metrics.jsonl lines, `--json` output, worker messages. */
export type TrainEvent =
  | {
      type: 'start';
      totalSteps: number;
      startStep: number;
      trainable: number;
      mode: 'lora' | 'full';
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
  | { type: 'eval'; step: number; evalLoss: number }
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
    };
