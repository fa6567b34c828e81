/**
 * Messages the dashboard page posts are checked before the host acts on them: an explicit list of
 * types, plain CSV file names, and CSV that is a header and numeric rows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPageMessage, PAGE_MESSAGE_TYPES } from '../../src/vscode/dashboard/pageMessage';

const CSV = 'run,step,loss,eval_loss\n2026-12-06T07-00,1,2.5,\n"a, ""b""",2,2.25,2.1\n';

test('every message type the page sends is accepted as the page sends it', () => {
  const good = [
    { type: 'ready' },
    { type: 'ack', points: 3, runs: { '/r': { points: 3, lastStep: 2 } }, drawMs: 1.5 },
    ...['stop', 'resume', 'export', 'evaluate', 'showSamples', 'playground', 'compare'].map((type) => ({
      type,
    })),
    { type: 'removeRun', runDir: '/w/.localtune/runs/a' },
    { type: 'saveCsv', csv: CSV, fileName: 'run-1-metrics.csv' },
    // The page makes the name from the run's title: `(copy)` becomes `-copy-`.
    { type: 'saveCsv', csv: 'run,step\n-copy-,1\n', fileName: '-copy--metrics.csv' },
  ];
  for (const m of good) assert.deepEqual(checkPageMessage(m), { message: m }, JSON.stringify(m));
  assert.deepEqual(new Set(good.map((m) => m.type)), new Set(PAGE_MESSAGE_TYPES));
});

test('malformed messages are rejected with the reason', () => {
  const bad: [unknown, RegExp][] = [
    [null, /not an object/],
    ['ready', /not an object/],
    [{}, /unknown message type/],
    [{ type: 'runCommand', command: 'workbench.action.terminal.new' }, /unknown message type "runCommand"/],
    [{ type: 'constructor' }, /unknown message type/],
    [{ type: 'ack', points: 'many', runs: {}, drawMs: 1 }, /points and drawMs/],
    [{ type: 'ack', points: 1, runs: null, drawMs: 1 }, /runs must be an object/],
    [{ type: 'ack', points: 1, runs: { a: 5 }, drawMs: 1 }, /runs must map/],
    [{ type: 'removeRun' }, /runDir/],
    [{ type: 'removeRun', runDir: 7 }, /runDir/],
    [{ type: 'saveCsv', csv: CSV, fileName: '../../.bashrc' }, /fileName/],
    [{ type: 'saveCsv', csv: CSV, fileName: '/etc/cron.d/x.csv' }, /fileName/],
    [{ type: 'saveCsv', csv: CSV, fileName: 'metrics.sh' }, /fileName/],
    [{ type: 'saveCsv', csv: CSV, fileName: '.hidden.csv' }, /fileName/],
    [{ type: 'saveCsv', csv: 42, fileName: 'a.csv' }, /csv must be text/],
    [{ type: 'saveCsv', csv: '', fileName: 'a.csv' }, /no header/],
    [{ type: 'saveCsv', csv: '<script>alert(1)</script>', fileName: 'a.csv' }, /no header/],
    [{ type: 'saveCsv', csv: 'run,step\nr,1,2\n', fileName: 'a.csv' }, /line 2 does not have 2 cells/],
    [{ type: 'saveCsv', csv: 'run,step\n=cmd|calc,1\n', fileName: 'a.csv' }, /formula/],
    [{ type: 'saveCsv', csv: 'run,step\nr,=1+1\n', fileName: 'a.csv' }, /not a number/],
    [{ type: 'saveCsv', csv: 'run,step\n"r,1\n', fileName: 'a.csv' }, /does not have/],
  ];
  for (const [m, why] of bad) {
    const r = checkPageMessage(m);
    assert.ok('rejected' in r, `accepted ${JSON.stringify(m)}`);
    assert.match(r.rejected, why);
  }
});
