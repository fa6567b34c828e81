/** An unexpected failure reaches the user as one line naming a log file that holds the trace. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { internalErrorsLogged } from '../../src/cli/internalErrors';

test('an unexpected error: one line, exit 1, the stack trace in the named log file', async () => {
  const err: string[] = [];
  const io = { out: () => {}, err: (l: string) => err.push(l) };
  const code = await internalErrorsLogged(io, () =>
    Promise.reject(new TypeError('x is undefined\nsecond line')),
  );
  assert.equal(code, 1);
  assert.equal(err.length, 1);
  const m = /^localtune: internal error: x is undefined \(details in (.+\.log)\)$/.exec(err[0]);
  assert.ok(m, err[0]);
  const log = readFileSync(m[1], 'utf8');
  assert.match(log, /TypeError: x is undefined/);
  assert.match(log, /\n\s+at /, 'the trace is in the file');
});

test('what the body returns passes through', async () => {
  assert.equal(await internalErrorsLogged({ out: () => {}, err: () => {} }, () => Promise.resolve(0)), 0);
});
