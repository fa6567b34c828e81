/**
 * `localtune job export|import`: hand a run to another trainer (Axolotl, TRL) when it outgrows
 * this machine, and bring what it trained back as a run of ours. Routed here by main.ts.
 */
import { join } from 'node:path';
import { UserError } from '../engine/errors';
import { exportJob } from '../jobs/handoff/exportJob';
import { importRun } from '../jobs/handoff/importRun';
import { ENGINES, isEngine } from '../jobs/handoff/versions';
import { newRunId } from '../jobs/runs';
import type { CliIo, CommandArgs } from './command';
import { command, oneLineErrors, required, stringFlags, withOutputFolder } from './command';
import { TRAIN_FLAGS, TRAIN_OPTION_FLAGS, trainSpecFromArgs } from './train';

const USAGE = `Usage:
  localtune job export --engine axolotl|trl --out DIR --model DIR|ID --data DATASET [train options]
      Writes the run \`localtune train\` would make with the same flags as a job for another trainer:
      the dataset's documents as JSONL (same split), the settings in the engine's config (job.yml for
      Axolotl, train.py for TRL), a README with the launch commands, and localtune-job.json.
  localtune job import DIR [--out RUN] [--model DIR] [--data DATASET] [--title STR] [--json]
      Makes what the engine saved in DIR (the job folder, or its output folder: a PEFT adapter or a
      merged model, and trainer_state.json) a LocalTune run: dashboard, eval, export, completions.
      --out      the run folder (default .localtune/runs/<time>)
      --model, --data   the base model and dataset, when DIR has no localtune-job.json`;

export async function runJobCommand(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  return oneLineErrors(io, 'error: ', async () => {
    if (sub === 'export') return runExport(rest, io);
    if (sub === 'import') return runImport(rest, io);
    if (sub === '--help' || sub === '-h' || sub === 'help' || sub === undefined) {
      io.out(USAGE);
      return sub === undefined ? 2 : 0;
    }
    throw new UserError(`unknown job command "${sub}"; use "job export" or "job import"`);
  });
}

const EXPORT_FLAGS = { ...TRAIN_FLAGS, engine: { type: 'string' } } as const;

const runExport = command(
  { help: USAGE, flags: EXPORT_FLAGS, optionFlags: TRAIN_OPTION_FLAGS },
  async (args: CommandArgs<typeof EXPORT_FLAGS>, io: CliIo) => {
    const engine = required(args.values.engine, `job export needs --engine ${ENGINES.join('|')}`);
    if (!isEngine(engine)) throw new UserError(`--engine ${engine}: use ${ENGINES.join(' or ')}`);
    const outDir = required(args.values.out, 'job export needs --out DIR (a new folder for the job)');
    if (args.values.resume || args.values.init)
      throw new UserError('job export hands off a new fine-tuning run: --resume and --init are not taken');
    const spec = await trainSpecFromArgs(args, io, 'job export');
    const job = await withOutputFolder(outDir, 'localtune job export', () =>
      exportJob({ spec, engine, outDir, onWarning: (w) => io.err(w) }),
    );
    if (args.values.json) {
      io.out(JSON.stringify(job));
      return 0;
    }
    const { plan, roundTrip } = job;
    io.out(
      `${engine} job in ${job.dir}: ${plan.steps} steps${plan.epochs === null ? '' : ` (${plan.epochs} epochs here)`}, ` +
        `${plan.microBatchSize}×${plan.gradientAccumulation} sequences of ${plan.seqLen} tokens per step, lr ${plan.lr}`,
    );
    io.out(
      `${roundTrip.identical} of ${roundTrip.documents} documents encode back to the same tokens; README.md says how to launch it`,
    );
    return 0;
  },
);

const IMPORT_FLAGS = stringFlags('out model data title');

const runImport = command(
  { help: USAGE, flags: IMPORT_FLAGS, optionFlags: { runDir: '--out', datasetDir: '--data' } },
  async ({ values, positionals }: CommandArgs<typeof IMPORT_FLAGS>, io: CliIo) => {
    const dir = required(positionals[0], 'job import needs DIR (the job folder the engine trained in)');
    const runDir = values.out ?? join('.localtune', 'runs', newRunId());
    const run = await withOutputFolder(runDir, 'localtune job import', () =>
      importRun({ dir, runDir, modelDir: values.model, datasetDir: values.data, title: values.title }),
    );
    if (values.json) {
      io.out(
        JSON.stringify({ runDir: run.runDir, finalDir: run.finalDir, mode: run.mode, steps: run.steps }),
      );
      return 0;
    }
    io.out(
      `imported as ${run.runDir}: ${run.mode === 'lora' ? 'adapter' : 'model'} in ${run.finalDir}, ` +
        `${run.steps} logged steps, ${run.evaluations} evaluations`,
    );
    return 0;
  },
);
