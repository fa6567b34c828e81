/**
 * `localtune` command line: a thin layer over engine/ and data/. Expected bad input prints one
 * line and exits with code 2; `--json` prints machine-readable lines (the worker protocol's events).
 */
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { Worker } from 'node:worker_threads';
import { UserError } from '../engine/errors';
import { hasWorkerEnv, WORKER_ENV } from '../jobs/fork';
import { type CliIo, oneLineErrors } from './command';
import { internalErrorLine, internalErrorsLogged } from './internalErrors';
import { runChatCommand } from './chat';
import { runDatasetCommand } from './dataset';
import { runEvalCommand } from './eval';
import { runExportCommand } from './export';
import { runGenerateCommand } from './generate';
import { runJobCommand } from './job';
import { runScoreCommand } from './score';
import { runTrainCommand } from './train';

const USAGE = `localtune — fine-tune small language models on your own code, locally

Usage:
  localtune train   --model DIR --data FILE|DATASET... [--mode lora|full] [--steps N | --epochs N] [--out DIR] [--resume DIR] [--json]
  localtune score   --model DIR [--adapter DIR] (--text STR | --ids 1,2,3) [--json]
  localtune dataset build --from DIR|FILE... --model DIR --out DIR [--json]
  localtune dataset show DIR
  localtune export  --model DIR [--adapter DIR] --out DIR [--dtype fp32|int8]
  localtune generate --model DIR [--adapter DIR] --prompt STR [--max-tokens N] [--temperature T --top-p P --seed N]
  localtune eval    --model DIR|ID [--adapter DIR] --data DATASET [--spans N] [--seed N] [--json]
  localtune chat    --model DIR|ID [--adapter DIR] [--system STR] [--messages FILE --json]
  localtune job export --engine axolotl|trl --out DIR --model DIR|ID --data DATASET [train options]
  localtune job import DIR [--out RUN]

Run \`localtune <command> --help\` for a command's options.`;

const COMMANDS: Record<string, (argv: string[], io: CliIo) => Promise<number>> = {
  train: runTrainCommand,
  score: runScoreCommand,
  dataset: runDatasetCommand,
  export: runExportCommand,
  generate: runGenerateCommand,
  eval: runEvalCommand,
  chat: runChatCommand,
  job: runJobCommand,
};

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  return internalErrorsLogged(io, () =>
    oneLineErrors(io, 'localtune: ', async () => {
      if (command === undefined || ['--help', '-h', 'help'].includes(command)) {
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      }
      if (!Object.hasOwn(COMMANDS, command))
        throw new UserError(
          `unknown command "${command}"; commands: ${Object.keys(COMMANDS).join(', ')} (see localtune --help)`,
        );
      return COMMANDS[command](rest, io);
    }),
  );
}

/**
 * Freed memory is slow to re-touch on many Linux VMs; glibc tuned to keep it costs nothing
 * elsewhere (docs/peers.md); huge pages for its heap speed up the products (jobs/fork.ts). glibc
 * reads these settings only at start, so heavy commands re-run themselves once with all of them
 * unless they already hold every one (a user who set MALLOC_MMAP_MAX_ alone still gets huge
 * pages): the child dies with this process (a pipe it watches closes, even on
 * kill -9) and gets the signals this one gets, so the user's process is the only one to stop.
 */
function relaunchWithTunedMalloc(argv: string[]): Promise<number> | null {
  if (
    !['train', 'score', 'eval'].includes(argv[0] ?? '') ||
    hasWorkerEnv(process.env) ||
    process.platform !== 'linux'
  )
    return null;
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...argv], {
    stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
    env: { ...process.env, ...WORKER_ENV, [PARENT_PIPE_ENV]: '3' },
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  return new Promise((done) => {
    child.on('error', (err) => {
      process.stderr.write(`localtune: could not start the training process: ${err.message}\n`);
      done(1);
    });
    child.on('exit', (code, signal) => done(code ?? 128 + (signal ? osConstants.signals[signal] : 0)));
  });
}

const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const PARENT_PIPE_ENV = 'LOCALTUNE_PARENT_PIPE';

/**
 * In the relaunched child: end as soon as the parent's end of the pipe closes (the parent died).
 * Watched from a worker thread, whose event loop runs while the main thread is busy building a
 * graph or tokenizing (seconds on a big model); checkpoints are written atomically, so a kill
 * at any moment loses at most the steps since the last one.
 */
function exitWithParent(): void {
  const fd = process.env[PARENT_PIPE_ENV];
  if (fd === undefined) return;
  delete process.env[PARENT_PIPE_ENV]; // not for processes this one starts
  const watcher = new Worker(
    `const { Socket } = require('node:net');
     const pipe = new Socket({ fd: ${Number(fd)}, readable: true, writable: false });
     const end = () => process.kill(process.pid, 'SIGKILL');
     pipe.on('close', end);
     pipe.on('error', end);
     pipe.resume();`,
    { eval: true },
  );
  watcher.unref();
}

/** Writes to a stream that may close early (`localtune train | head -1`): the run goes on, quietly. */
function lineWriter(stream: NodeJS.WriteStream): (line: string) => void {
  let closed = false;
  stream.on('error', () => (closed = true));
  return (line) => {
    if (!closed && !stream.destroyed) stream.write(line + '\n');
  };
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  exitWithParent();
  const relaunched = relaunchWithTunedMalloc(argv);
  (relaunched ?? runCli(argv, { out: lineWriter(process.stdout), err: lineWriter(process.stderr) })).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`localtune: ${internalErrorLine(err)}\n`);
      process.exit(1);
    },
  );
}
