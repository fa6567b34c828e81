/**
 * `localtune` command line: a thin layer over engine/ and data/. Expected bad input prints one
 * line and exits with code 2; `--json` prints machine-readable lines (the worker protocol's events).
 */
import { spawnSync } from 'node:child_process';
import { UserError } from '../engine/errors';
import { type CliIo, oneLineErrors } from './command';
import { runDatasetCommand } from './dataset';
import { runEvalCommand } from './eval';
import { runExportCommand } from './export';
import { runGenerateCommand } from './generate';
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

Run \`localtune <command> --help\` for a command's options.`;

const COMMANDS: Record<string, (argv: string[], io: CliIo) => Promise<number>> = {
  train: runTrainCommand,
  score: runScoreCommand,
  dataset: runDatasetCommand,
  export: runExportCommand,
  generate: runGenerateCommand,
  eval: runEvalCommand,
};

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  return oneLineErrors(io, 'localtune: ', async () => {
    if (command === undefined || ['--help', '-h', 'help'].includes(command)) {
      io.out(USAGE);
      return command === undefined ? 2 : 0;
    }
    if (!Object.hasOwn(COMMANDS, command))
      throw new UserError(
        `unknown command "${command}"; commands: ${Object.keys(COMMANDS).join(', ')} (see localtune --help)`,
      );
    return COMMANDS[command](rest, io);
  });
}

/**
 * Freed memory is slow to re-touch on many Linux VMs; glibc tuned to keep it costs nothing
 * elsewhere (docs/peers.md). Heavy commands re-run themselves once with that setting.
 */
function relaunchWithTunedMalloc(argv: string[]): number | null {
  if (
    !['train', 'score', 'eval'].includes(argv[0] ?? '') ||
    process.env.MALLOC_MMAP_MAX_ !== undefined ||
    process.platform !== 'linux'
  )
    return null;
  const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1], ...argv], {
    stdio: 'inherit',
    env: { ...process.env, MALLOC_MMAP_MAX_: '0', MALLOC_TRIM_THRESHOLD_: '68719476736' },
  });
  return r.status ?? 1;
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const relaunched = relaunchWithTunedMalloc(argv);
  if (relaunched !== null) process.exit(relaunched);
  runCli(argv, {
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(l + '\n'),
  }).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`localtune: internal error: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
