// `localtune job`'s bad input: one line, exit code 2, before any work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './capture';

const tmp = mkdtempSync(join(tmpdir(), 'lt-job-'));

const CASES: [string, string[], RegExp][] = [
  ['no subcommand', ['job'], /Usage:/],
  ['an unknown subcommand', ['job', 'send'], /unknown job command "send"; use "job export" or "job import"/],
  [
    'export without an engine',
    ['job', 'export', '--out', join(tmp, 'a')],
    /job export needs --engine axolotl\|trl/,
  ],
  [
    'export to an unknown engine',
    ['job', 'export', '--engine', 'deepspeed', '--out', join(tmp, 'b')],
    /--engine deepspeed: use axolotl or trl/,
  ],
  ['export without --out', ['job', 'export', '--engine', 'trl'], /job export needs --out DIR/],
  [
    'export without --model',
    ['job', 'export', '--engine', 'trl', '--out', join(tmp, 'c')],
    /job export needs --model DIR/,
  ],
  [
    'export with --resume',
    ['job', 'export', '--engine', 'trl', '--out', join(tmp, 'd'), '--resume', tmp],
    /--resume and --init are not taken/,
  ],
  ['import without a folder', ['job', 'import'], /job import needs DIR/],
  [
    'import of a folder without a job file or --model',
    ['job', 'import', tmp],
    /no localtune-job\.json; give --model/,
  ],
];

for (const [name, argv, message] of CASES)
  test(`job: ${name}`, async () => {
    const r = await cli(...argv);
    assert.equal(r.code, 2, r.out.join('\n'));
    const lines = argv.length === 1 ? r.out : r.err;
    assert.match(lines.join('\n'), message);
    if (argv.length > 1) assert.equal(r.err.length, 1, r.err.join('\n'));
  });

test('job import: a folder where the engine saved nothing says where it looked', async () => {
  const dir = join(tmp, 'empty-job');
  mkdirSync(dir);
  writeFileSync(join(dir, 'notes.txt'), 'nothing here');
  const r = await cli('job', 'import', dir, '--model', tmp, '--out', join(tmp, 'run'));
  assert.equal(r.code, 2);
  assert.match(
    r.err[0],
    /no adapter_config\.json, model config\.json or checkpoint-N\/ adapter in it or in output\//,
  );
});
