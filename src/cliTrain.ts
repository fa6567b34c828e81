/** `localtune train`: fine-tune a model (LoRA or full) on text/JSONL files or a dataset folder. */
import { join } from 'node:path';
import { UserError } from './engine/errors';
import { train } from './engine/train/trainer';
import { trainOptionsFrom, type TrainSpec } from './jobs/trainSpec';
import { numberFlag, parseFlags, type CliIo } from './cliArgs';
import { resolveModelForCli } from './engine/hub/hubProgress';

const HELP = `localtune train --model DIR --data FILE|DATASET... [options]
  --mode lora|full          LoRA adapters (default) or every weight
  --lora-r 8 --lora-alpha 16 --lora-dropout 0 --targets c_attn,c_proj,c_fc
  --steps N | --epochs N    length of training (default: 1 epoch)
  --lr 2e-4 (LoRA) / 5e-5 (full)   --warmup 10   --weight-decay 0   --clip 1
  --batch-tokens 2048 --seq-len 256 --micro-batch-tokens 1024
  --eval-every 50 --eval-tokens 16384 --checkpoint-every 100 --seed 0
  --patience N              stop early after N evaluations without a lower validation loss
  --keep-best               keep the best evaluation's adapter in <out>/best/ and make it the final
                            one (on with --patience)
  --out DIR                 run folder (default .localtune/runs/<time>)
  --resume DIR              continue a run (its folder or a checkpoint)
  --adapter DIR             start LoRA from a PEFT adapter (ours or Python PEFT's)
  --json                    one JSON event per line on stdout`;

export async function runTrainCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    model: { type: 'string' },
    data: { type: 'string', multiple: true },
    mode: { type: 'string' },
    'lora-r': { type: 'string' },
    'lora-alpha': { type: 'string' },
    'lora-dropout': { type: 'string' },
    targets: { type: 'string' },
    steps: { type: 'string' },
    epochs: { type: 'string' },
    lr: { type: 'string' },
    warmup: { type: 'string' },
    'weight-decay': { type: 'string' },
    clip: { type: 'string' },
    'batch-tokens': { type: 'string' },
    'seq-len': { type: 'string' },
    'micro-batch-tokens': { type: 'string' },
    'eval-every': { type: 'string' },
    'eval-tokens': { type: 'string' },
    patience: { type: 'string' },
    'keep-best': { type: 'boolean' },
    'checkpoint-every': { type: 'string' },
    seed: { type: 'string' },
    threads: { type: 'string' },
    out: { type: 'string' },
    resume: { type: 'string' },
    adapter: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean' },
  });
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  if (!values.model) throw new UserError('train needs --model DIR (a Hugging Face model folder)');
  const data = [...(values.data ?? []), ...positionals];
  if (data.length === 0)
    throw new UserError('train needs --data FILE... (text or JSONL files) or a dataset folder');
  const mode = values.mode ?? 'lora';
  if (mode !== 'lora' && mode !== 'full') throw new UserError(`--mode must be lora or full (got "${mode}")`);
  if (values.steps && values.epochs) throw new UserError('give --steps or --epochs, not both');

  const n = (name: string, value: string | undefined, integer = true) =>
    value === undefined ? undefined : numberFlag(value, name, 0, integer);
  // A hub id (org/name[@revision]) is downloaded into the Hugging Face cache first.
  const modelDir = await resolveModelForCli(values.model, io.err);
  const spec: TrainSpec = {
    modelDir,
    baseModelName: modelDir === values.model ? undefined : values.model,
    adapterDir: values.adapter,
    data,
    mode,
    loraR: n('lora-r', values['lora-r']),
    loraAlpha: n('lora-alpha', values['lora-alpha'], false),
    loraDropout: n('lora-dropout', values['lora-dropout'], false),
    targets: values.targets?.split(',').map((s) => s.trim()),
    steps: values.steps ? numberFlag(values.steps, 'steps', 1) : undefined,
    epochs: values.epochs ? numberFlag(values.epochs, 'epochs', 1, false) : undefined,
    lr: n('lr', values.lr, false),
    warmupSteps: n('warmup', values.warmup),
    weightDecay: n('weight-decay', values['weight-decay'], false),
    clipNorm: n('clip', values.clip, false),
    batchTokens: n('batch-tokens', values['batch-tokens']),
    seqLen: n('seq-len', values['seq-len']),
    microBatchTokens: n('micro-batch-tokens', values['micro-batch-tokens']),
    evalEvery: n('eval-every', values['eval-every']),
    evalTokens: n('eval-tokens', values['eval-tokens']),
    patience: n('patience', values.patience),
    keepBest: values['keep-best'],
    checkpointEvery: n('checkpoint-every', values['checkpoint-every']),
    seed: n('seed', values.seed),
    threads: values.threads ? numberFlag(values.threads, 'threads', 1) : undefined,
    outDir:
      values.resume ??
      values.out ??
      join('.localtune', 'runs', new Date().toISOString().replace(/[:.]/g, '-')),
    resumeFrom: values.resume,
  };
  const options = await trainOptionsFrom(spec, (w) => io.err(w));

  await train(options, {
    onEvent: (e) => {
      if (values.json) io.out(JSON.stringify(e));
      else if (e.type === 'step')
        io.out(
          `step ${e.step}/${e.totalSteps}  loss ${e.loss.toFixed(4)}  lr ${e.lr.toExponential(2)}  ${Math.round(e.tokensPerSec)} tok/s`,
        );
      else if (e.type === 'eval') io.out(`eval at step ${e.step}: loss ${e.evalLoss.toFixed(4)}`);
      else if (e.type === 'done')
        io.out(
          `done: ${e.earlyStopped ? 'stopped early' : e.reason} at step ${e.step}; ${mode === 'lora' ? 'adapter' : 'model'} in ${e.finalDir}` +
            (e.finalIs === 'best' ? ` (the best evaluation's, step ${e.bestStep})` : ''),
        );
      else if (e.type === 'log') io.err(e.message);
    },
  });
  return 0;
}
