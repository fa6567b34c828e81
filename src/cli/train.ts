/** `localtune train`: fine-tune a model (LoRA or full) on text/JSONL files or a dataset folder. */
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { isUserError, OptionError, UserError } from '../engine/errors';
import { listCheckpoints } from '../engine/train/checkpoint';
import { train } from '../engine/train/trainer';
import { learningRateBands } from '../jobs/trainDefaults';
import { trainOptionsFrom, type TrainSpec } from '../jobs/trainSpec';
import type { CliIo, CommandArgs } from './command';
import {
  checkModel,
  command,
  withOutputFolder,
  optionalNumberFlag as n,
  required,
  resolveModel,
  stringFlags,
} from './command';

const HELP = `localtune train --model DIR --data FILE|DATASET... [options]
  --mode lora|full          LoRA adapters (default) or every weight
  --lora-r 8 --lora-alpha 16 --lora-dropout 0 --targets c_attn,c_proj,c_fc
  --steps N | --epochs N    length of training (default, and --steps 0: 1 epoch)
  --lr X                    peak learning rate; default by model size and mode:
                            ${learningRateBands().join('\n                            ')}
  --warmup 10   --weight-decay 0   --clip 1
  --batch-tokens 2048 --seq-len 256 --micro-batch-tokens 1024
  --eval-every 25 --eval-tokens 16384 --checkpoint-every 100 --seed 0
  --patience 3              stop early after N evaluations without a lower validation loss (0: never)
  --keep-best               keep the best evaluation's adapter in <out>/best/ and make it the final
  --no-keep-best            one (default on; patience and keep-best need a validation set)
                            Plain files hold out their last 5% (at least 4096 tokens, at most 30%)
                            for validation; a dataset folder has its own split
  --out DIR                 run folder (default .localtune/runs/<time>)
  --resume DIR              continue a run (its folder or a checkpoint)
  --adapter DIR             start LoRA from a PEFT adapter (ours or Python PEFT's)
  --base-dtype fp32|int8    LoRA: hold the frozen base in int8 (integer GEMMs, forward and input
                            gradient; the default from 10M parameters) or float32 (the default for
                            smaller models); the adapter is the same either way
  --init random             train from scratch: fresh weights by the family's rules (with --mode full),
                            --model's tokenizer and config.json (or --config FILE); lr 1e-3, weight
                            decay 0.1, a 5% warmup, --eval-every 50 and no early stopping unless
                            given
  --json                    one JSON event per line on stdout`;

/** `localtune train`'s flags; `localtune job export` takes the same to describe the run it hands off. */
export const TRAIN_FLAGS = {
  ...stringFlags('model mode lora-r lora-alpha lora-dropout targets'),
  ...stringFlags('steps epochs lr warmup weight-decay clip'),
  ...stringFlags('batch-tokens seq-len micro-batch-tokens eval-every eval-tokens'),
  ...stringFlags('patience checkpoint-every seed threads out resume adapter init config'),
  ...stringFlags('base-dtype'),
  data: { type: 'string', multiple: true },
  'keep-best': { type: 'boolean' },
  'no-keep-best': { type: 'boolean' },
} as const;

// TrainSpec's and TrainOptions' names (lora.r is TrainOptions.lora's) that are not their flag.
export const TRAIN_OPTION_FLAGS: Record<string, string> = {
  baseModelName: '--model',
  'lora.r': '--lora-r',
  'lora.alpha': '--lora-alpha',
  'lora.dropout': '--lora-dropout',
  'lora.targets': '--targets',
  learningRate: '--lr',
  warmupSteps: '--warmup',
  clipNorm: '--clip',
  maxSeqLen: '--seq-len',
  resumeFrom: '--resume',
  configFile: '--config',
};

export const runTrainCommand = command(
  {
    help: HELP,
    flags: TRAIN_FLAGS,
    optionFlags: TRAIN_OPTION_FLAGS,
  },
  trainCommand,
);

async function trainCommand(args: CommandArgs<typeof TRAIN_FLAGS>, io: CliIo) {
  const spec = await trainSpecFromArgs(args, io);
  // A run that fails before its first checkpoint leaves no folder it made (nothing to resume).
  return withOutputFolder(
    spec.outDir,
    'localtune train',
    () => run(spec, args.values.json === true, io),
    () => listCheckpoints(spec.outDir).length > 0,
  );
}

/** The TrainSpec the train flags describe (`verb` names the command in its messages). */
export async function trainSpecFromArgs(
  { values, positionals }: CommandArgs<typeof TRAIN_FLAGS>,
  io: CliIo,
  verb = 'train',
): Promise<TrainSpec> {
  const modelArg = required(values.model, `${verb} needs --model DIR (a Hugging Face model folder)`);
  const data = [...(values.data ?? []), ...positionals];
  if (data.length === 0)
    throw new UserError(`${verb} needs --data FILE... (text or JSONL files) or a dataset folder`);
  const mode = values.mode ?? 'lora';
  if (mode !== 'lora' && mode !== 'full') throw new UserError(`--mode must be lora or full (got "${mode}")`);

  const { modelDir, hubId } = await resolveModel(modelArg, io);
  // A new model's folder holds a tokenizer and config only; its weights are drawn later.
  if (values.init !== 'random') checkModel(modelDir);
  return {
    modelDir,
    baseModelName: hubId,
    adapterDir: values.adapter,
    data,
    mode,
    loraR: n(values['lora-r'], 'lora-r'),
    loraAlpha: n(values['lora-alpha'], 'lora-alpha', false),
    loraDropout: n(values['lora-dropout'], 'lora-dropout', false),
    targets: values.targets?.split(',').map((s) => s.trim()),
    steps: n(values.steps, 'steps'),
    epochs: n(values.epochs, 'epochs', false),
    lr: n(values.lr, 'lr', false),
    warmupSteps: n(values.warmup, 'warmup'),
    weightDecay: n(values['weight-decay'], 'weight-decay', false),
    clipNorm: n(values.clip, 'clip', false),
    batchTokens: n(values['batch-tokens'], 'batch-tokens'),
    seqLen: n(values['seq-len'], 'seq-len'),
    microBatchTokens: n(values['micro-batch-tokens'], 'micro-batch-tokens'),
    evalEvery: n(values['eval-every'], 'eval-every'),
    evalTokens: n(values['eval-tokens'], 'eval-tokens'),
    patience: n(values.patience, 'patience'),
    keepBest: keepBestFlag(values['keep-best'], values['no-keep-best']),
    checkpointEvery: n(values['checkpoint-every'], 'checkpoint-every'),
    seed: n(values.seed, 'seed'),
    threads: n(values.threads, 'threads'),
    // Resuming writes into the run folder, also when --resume names one of its checkpoints.
    outDir:
      values.out ??
      (values.resume !== undefined ? runFolderOf(values.resume) : undefined) ??
      join('.localtune', 'runs', new Date().toISOString().replace(/[:.]/g, '-')),
    resumeFrom: values.resume,
    init: initFlag(values.init),
    configFile: values.config,
    baseDtype: values['base-dtype'] as TrainSpec['baseDtype'],
  };
}

async function run(spec: TrainSpec, json: boolean, io: CliIo): Promise<number> {
  const mode = spec.mode;
  const held: string[] = [];
  let options;
  try {
    options = await trainOptionsFrom(spec, (w) => {
      // A record the user gave that cannot be read is an error here (`file:line: reason`), not a skip.
      if (/^warning: .+:\d+: /.test(w)) throw new UserError(w.slice('warning: '.length));
      held.push(w);
    });
  } catch (err) {
    // One line: what the data warnings said goes into the refusal instead of above it.
    if (!held.length || !isUserError(err) || err instanceof OptionError) throw err;
    const why = held.map((w) => w.replace(/^warning: /, '')).join('; ');
    throw new UserError(`${err.message.replace(/; check the warnings above$/, '')} (${why})`);
  }
  for (const w of held) io.err(w);

  await train(options, {
    onEvent: (e) => {
      if (json) io.out(JSON.stringify(e));
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

/** `--resume RUN/checkpoints/step-N` continues RUN: the run folder, never the checkpoint's. */
function runFolderOf(resume: string): string {
  const abs = resolve(resume);
  const parent = dirname(abs);
  return basename(parent) === 'checkpoints' && existsSync(join(abs, 'trainer_state.json'))
    ? dirname(parent)
    : abs;
}

function keepBestFlag(on: boolean | undefined, off: boolean | undefined): boolean | undefined {
  if (on && off) throw new UserError('give --keep-best or --no-keep-best, not both');
  return on ? true : off ? false : undefined;
}

function initFlag(value: string | undefined): TrainSpec['init'] {
  if (value === undefined || value === 'pretrained' || value === 'random') return value;
  throw new UserError(`--init ${value}: use "pretrained" (the model's weights, default) or "random"`);
}
