/** `localtune train`: fine-tune a model (LoRA or full) on text/JSONL files or a dataset folder. */
import { join, resolve } from 'node:path';
import { UserError } from './engine/errors';
import { loadTokenizer } from './engine/io/tokenizer';
import { loadModel } from './engine/models';
import { loadAdapter } from './engine/io/peft';
import { train } from './engine/train/trainer';
import { resolveCheckpoint } from './engine/train/checkpoint';
import { holdOutTail, type TokenStream } from './engine/train/windows';
import { isDatasetDir, readDataset, tokenStreamFromFiles } from './data/datasetFiles';
import { numberFlag, parseFlags, type CliIo } from './cliArgs';

const HELP = `localtune train --model DIR --data FILE|DATASET... [options]
  --mode lora|full          LoRA adapters (default) or every weight
  --lora-r 8 --lora-alpha 16 --lora-dropout 0 --targets c_attn,c_proj,c_fc
  --steps N | --epochs N    length of training (default: 1 epoch)
  --lr 2e-4 (LoRA) / 5e-5 (full)   --warmup 10   --weight-decay 0   --clip 1
  --batch-tokens 2048 --seq-len 256 --micro-batch-tokens 1024
  --eval-every 50 --eval-tokens 16384 --checkpoint-every 100 --seed 0
  --out DIR                 run folder (default .localtune/runs/<time>)
  --resume DIR              continue a run (its folder or a checkpoint)
  --json                    one JSON event per line on stdout`;

async function loadStreams(
  items: string[],
  modelDir: string,
  io: CliIo,
): Promise<{ train: TokenStream; validation?: TokenStream }> {
  const datasets = items.filter(isDatasetDir);
  if (datasets.length > 1) throw new UserError('--data takes one dataset folder (or plain files)');
  if (datasets.length === 1) {
    if (items.length > 1) throw new UserError('--data: give either one dataset folder or files, not both');
    const ds = readDataset(datasets[0]);
    return { train: ds.train, validation: ds.validation.ids.length > 1 ? ds.validation : undefined };
  }
  const tokenizer = await loadTokenizer(modelDir);
  const stream = await tokenStreamFromFiles(items, tokenizer, {
    modelDir, // chat records need the model's template
    onWarning: (w: string) => io.err(`warning: ${w}`),
  });
  if (stream.ids.length < 2) throw new UserError(`--data: no text found in ${items.join(', ')}`);
  // Plain files have no split: hold out the tail when there is enough to spare.
  return stream.ids.length >= 20_000 ? holdOutTail(stream, 0.05) : { train: stream };
}

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
    'checkpoint-every': { type: 'string' },
    seed: { type: 'string' },
    threads: { type: 'string' },
    out: { type: 'string' },
    resume: { type: 'string' },
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

  const model = loadModel(values.model);
  const resumeAdapter = values.resume && mode === 'lora' ? loraSettingsOf(values.resume) : undefined;
  const lora = resumeAdapter ?? {
    r: numberFlag(values['lora-r'], 'lora-r', 8),
    alpha: numberFlag(values['lora-alpha'], 'lora-alpha', 16, false),
    dropout: numberFlag(values['lora-dropout'], 'lora-dropout', 0, false),
    targets: values.targets
      ? values.targets.split(',').map((s) => s.trim())
      : model.family.defaultLoraTargets,
    rslora: false,
  };
  if (lora.dropout >= 1) throw new UserError(`--lora-dropout must be below 1 (got ${lora.dropout})`);
  const context = model.family.contextLength(model.config);
  const seqLen = numberFlag(values['seq-len'], 'seq-len', Math.min(256, context));
  // Checked before the data is read: a wrong flag should not cost a tokenization pass.
  if (seqLen > context)
    throw new UserError(`--seq-len ${seqLen} is longer than the model's context (${context} tokens)`);
  const { train: trainStream, validation } = await loadStreams(data, values.model, io);
  const outDir = resolve(
    values.resume ?? values.out ?? join('.localtune', 'runs', new Date().toISOString().replace(/[:.]/g, '-')),
  );

  await train(
    {
      model,
      baseModelName: resolve(values.model),
      train: trainStream,
      validation,
      mode,
      lora,
      steps: values.steps ? numberFlag(values.steps, 'steps', 1) : undefined,
      epochs: values.epochs ? numberFlag(values.epochs, 'epochs', 1, false) : undefined,
      lr: numberFlag(values.lr, 'lr', mode === 'lora' ? 2e-4 : 5e-5, false),
      warmupSteps: numberFlag(values.warmup, 'warmup', 10),
      minLrRatio: 0.1,
      weightDecay: numberFlag(values['weight-decay'], 'weight-decay', 0, false),
      clipNorm: numberFlag(values.clip, 'clip', 1, false),
      batchTokens: numberFlag(values['batch-tokens'], 'batch-tokens', 2048),
      seqLen,
      microBatchTokens: numberFlag(values['micro-batch-tokens'], 'micro-batch-tokens', 1024),
      evalEvery: numberFlag(values['eval-every'], 'eval-every', 50),
      evalTokens: numberFlag(values['eval-tokens'], 'eval-tokens', 16384),
      checkpointEvery: numberFlag(values['checkpoint-every'], 'checkpoint-every', 100),
      seed: numberFlag(values.seed, 'seed', 0),
      threads: values.threads ? numberFlag(values.threads, 'threads', 1) : undefined,
      outDir,
      resumeFrom: values.resume ? resolve(values.resume) : undefined,
    },
    {
      onEvent: (e) => {
        if (values.json) io.out(JSON.stringify(e));
        else if (e.type === 'step')
          io.out(
            `step ${e.step}/${e.totalSteps}  loss ${e.loss.toFixed(4)}  lr ${e.lr.toExponential(2)}  ${Math.round(e.tokensPerSec)} tok/s`,
          );
        else if (e.type === 'eval') io.out(`eval at step ${e.step}: loss ${e.evalLoss.toFixed(4)}`);
        else if (e.type === 'done')
          io.out(
            `done: ${e.reason} at step ${e.step}; ${mode === 'lora' ? 'adapter' : 'model'} in ${e.finalDir}`,
          );
        else if (e.type === 'log') io.err(e.message);
      },
    },
  );
  return 0;
}

/** When resuming a LoRA run, the checkpoint's adapter settings win over flags. */
function loraSettingsOf(resumeDir: string) {
  return loadAdapter(resolveCheckpoint(resumeDir)).settings;
}
