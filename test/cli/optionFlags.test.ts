/**
 * The engine names options as its option objects spell them (OptionError); each command shows
 * them as its flags. (`train --seq-len` past the context, end to end: cli.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OptionError, UserError } from '../../src/engine/errors';
import { type CliIo, command, stringFlags } from '../../src/cli/command';

const io: CliIo = { out: () => {}, err: () => {} };

/** A command whose body throws `err`, with the flags and table given. */
function failing(err: Error, optionFlags?: Record<string, string>) {
  return command({ help: '', flags: stringFlags('seq-len batch-tokens from out'), optionFlags }, () =>
    Promise.reject(err),
  );
}

async function messageOf(run: (argv: string[], cliIo: CliIo) => Promise<number>): Promise<string> {
  const err = await run([], io).then(
    () => assert.fail('expected a user error'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof UserError);
  return err.message;
}

test('an option error names flags: camelCase becomes the kebab-case flag the command has', async () => {
  const err = new OptionError(
    ['batchTokens', 'seqLen'],
    'batchTokens (64) and the micro-batch must be multiples of seqLen (48)',
  );
  assert.equal(
    await messageOf(failing(err)),
    '--batch-tokens (64) and the micro-batch must be multiples of --seq-len (48)',
  );
});

test("the command's table wins; paths, dotted names and spelled flags are left alone", async () => {
  const err = new OptionError(
    ['sources', 'outDir', 'seqLen'],
    'sources: missing /data/sources and sources.txt; check the sources path (outDir, --seq-len)',
  );
  assert.equal(
    await messageOf(failing(err, { sources: '--from' })),
    '--from: missing /data/sources and sources.txt; check the --from path (--out, --seq-len)',
  );
});

test("an option the command has no flag for keeps the engine's name", async () => {
  const err = new OptionError(['maxSeqLen'], 'maxSeqLen must be positive');
  assert.equal(await messageOf(failing(err)), 'maxSeqLen must be positive');
});

test('other errors pass through unchanged', async () => {
  const err = new UserError('seqLen is a word here');
  assert.equal(await messageOf(failing(err)), 'seqLen is a word here');
});
