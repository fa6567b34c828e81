/**
 * What every `localtune` command is made of: flag parsing (with `--json` and `--help`), the help
 * text, `--model DIR|ID` through the hub, number and dtype flags, and engine option errors spelled
 * as the command's flags.
 */
import { existsSync, rmSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isUserError, OptionError, UserError } from '../engine/errors';
import { withFolderLock } from '../engine/formats/lock';
import { resolveModelForCli } from '../engine/hub/hubProgress';
import { checkModelFolder, findNonFiniteWeight } from '../engine/models/check';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

type FlagSpec = NonNullable<ParseArgsConfig['options']>;

type Words<S extends string> = S extends `${infer W} ${infer Rest}` ? W | Words<Rest> : S;

/** Flags that take a value, by name: `stringFlags('model out seq-len')`. */
export function stringFlags<S extends string>(names: S): { [N in Words<S>]: { type: 'string' } } {
  return Object.fromEntries(names.split(' ').map((n) => [n, { type: 'string' }])) as {
    [N in Words<S>]: { type: 'string' };
  };
}

/** Flags every command takes. */
const COMMON_FLAGS = {
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const satisfies FlagSpec;

type Parsed<T extends FlagSpec> = ReturnType<
  typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>
>;

/** The parsed command line a command runs with: `values` has `json` and `help` besides its own flags. */
export type CommandArgs<T extends FlagSpec> = Parsed<Omit<typeof COMMON_FLAGS, keyof T> & T>;

export interface CommandSpec<T extends FlagSpec> {
  /** What `--help` prints. */
  help: string;
  /** The command's own flags (`json` and `help` are added; an entry here replaces them). */
  flags: T;
  /**
   * How the engine's option names (`OptionError.options`) read as this command's flags, where that
   * is not simply the option in kebab-case (`seqLen` → `--seq-len`, when the command has that flag).
   */
  optionFlags?: Record<string, string>;
}

/** Option names several commands share (where the command has the flag). */
const SHARED_OPTION_FLAGS: Record<string, string> = {
  modelDir: '--model',
  adapterDir: '--adapter',
  outDir: '--out',
};

/**
 * A command from its spec and its body: parses the flags, answers `--help`, and shows the engine's
 * option errors with this command's flags.
 */
export function command<T extends FlagSpec, Io extends CliIo = CliIo>(
  spec: CommandSpec<T>,
  run: (args: CommandArgs<T>, io: Io) => Promise<number>,
): (argv: string[], io: Io) => Promise<number> {
  const flags = { ...COMMON_FLAGS, ...spec.flags };
  return async (argv, io) => {
    const args = parseFlags(argv, flags);
    if ((args.values as { help?: boolean }).help) {
      io.out(spec.help);
      return 0;
    }
    try {
      return await run(args as CommandArgs<T>, io);
    } catch (err) {
      if (!(err instanceof OptionError)) throw err;
      throw new UserError(spellOptions(err, (name) => flagFor(name, flags, spec.optionFlags)));
    }
  };
}

function flagFor(option: string, flags: FlagSpec, table: Record<string, string> = {}): string | undefined {
  if (table[option]) return table[option];
  const flag = SHARED_OPTION_FLAGS[option] ?? `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  return Object.hasOwn(flags, flag.slice(2)) ? flag : undefined;
}

/** The error's message with each option it names (as a word of its own) replaced by its flag. */
export function spellOptions(err: OptionError, spell: (option: string) => string | undefined): string {
  let message = err.message;
  for (const option of err.options) {
    const flag = spell(option);
    if (!flag) continue;
    const word = option.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // Not inside a path, a dotted name or an already spelled flag (`--seq-len`, `a/seqLen`).
    message = message.replace(new RegExp(`(?<![\\w./-])${word}(?![\\w/-]|\\.\\w)`, 'g'), flag);
  }
  return message;
}

/** Runs `body`; an expected failure becomes one line on stderr (`prefix` + message) and exit code 2. */
export async function oneLineErrors(io: CliIo, prefix: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (!isUserError(err)) throw err;
    io.err(prefix + err.message);
    return 2;
  }
}

/**
 * Runs `body` holding the lock on the output folder `dir` (a second writer is refused with this
 * process's pid). When it fails, a folder it made is removed: nothing half-written is left, unless
 * `keep` says there is something worth keeping (a run's checkpoint).
 */
export async function withOutputFolder<T>(
  dir: string,
  what: string,
  body: () => Promise<T>,
  keep: () => boolean = () => false,
): Promise<T> {
  const existed = existsSync(dir);
  return withFolderLock(dir, what, async () => {
    try {
      return await body();
    } catch (err) {
      if (!existed && !keep()) rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  });
}

/** parseArgs with errors turned into one-line user errors. */
export function parseFlags<T extends FlagSpec>(argv: string[], options: T) {
  try {
    return parseArgs({
      args: negativeValuesJoined(argv, options),
      options,
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UserError((err as Error).message.split('\n')[0]);
  }
}

/**
 * `--steps -5` as `--steps=-5`: parseArgs reads a value that starts with "-" as an option ("argument
 * is ambiguous"); joined, the number reaches its flag's range check and gets a message naming it.
 */
function negativeValuesJoined(argv: string[], options: FlagSpec): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') && !argv[i].includes('=') ? argv[i].slice(2) : undefined;
    const next = argv[i + 1];
    if (name && options[name]?.type === 'string' && next !== undefined && /^-[\d.]/.test(next)) {
      out.push(`${argv[i]}=${next}`);
      i++;
    } else out.push(argv[i]);
  }
  return out;
}

/** Where a number flag's value may lie besides being non-negative: at least `min`, above `above`, at most `max`. */
export interface FlagBounds {
  min?: number;
  above?: number;
  max?: number;
}

export function numberFlag(
  value: string | undefined,
  name: string,
  fallback: number,
  integer = true,
  bounds: FlagBounds = {},
): number {
  if (value === undefined) return fallback;
  const n = value.trim() === '' ? NaN : Number(value);
  const { min = 0, above, max } = bounds;
  if (
    !Number.isFinite(n) ||
    (integer && !Number.isSafeInteger(n)) ||
    n < min ||
    (above !== undefined && n <= above) ||
    (max !== undefined && n > max)
  ) {
    const kind = integer ? 'an integer' : 'a number';
    const low = above !== undefined ? `above ${above}` : min === 0 ? 'non-negative' : `at least ${min}`;
    throw new UserError(
      `--${name} must be ${kind}, ${low}${max !== undefined ? ` and at most ${max}` : ''} (got "${value}")`,
    );
  }
  return n;
}

/** A number flag that is absent unless given (the engine's default then applies). */
export function optionalNumberFlag(
  value: string | undefined,
  name: string,
  integer = true,
  bounds: FlagBounds = {},
): number | undefined {
  return value === undefined ? undefined : numberFlag(value, name, 0, integer, bounds);
}

/** The value of a flag the command cannot run without. */
export function required<V>(value: V | undefined, message: string): V {
  if (!value) throw new UserError(message);
  return value;
}

/** `--dtype fp32|int8` (default fp32). */
export function dtypeFlag(value: string | undefined): 'fp32' | 'int8' {
  const dtype = value ?? 'fp32';
  if (dtype !== 'fp32' && dtype !== 'int8')
    throw new UserError(`--dtype must be fp32 or int8 (got "${dtype}")`);
  return dtype;
}

/**
 * A model folder checked before any graph is built (config against every tensor's name and shape,
 * one line for what is wrong) and every weight scanned for NaN/Inf (the graph build reads them all
 * anyway; `values: false` skips the scan).
 */
export function checkModel(modelDir: string, o: { values?: boolean } = {}): void {
  checkModelFolder(modelDir);
  const bad = o.values === false ? undefined : findNonFiniteWeight(modelDir);
  if (bad !== undefined)
    throw new UserError(
      `${modelDir}: weight ${bad} holds NaN or infinite values; the model folder is damaged`,
    );
}

/**
 * `--model DIR|ID`: a local folder as is, or a hub id (org/name[@revision]) downloaded into the
 * Hugging Face cache first. `hubId` is the id when there was one (what adapters and cards record).
 */
export async function resolveModel(model: string, io: CliIo): Promise<{ modelDir: string; hubId?: string }> {
  const modelDir = await resolveModelForCli(model, io.err);
  return { modelDir, hubId: modelDir === model ? undefined : model };
}
