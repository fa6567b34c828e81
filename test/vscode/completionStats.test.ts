// Local completion statistics (src/vscode/completion/completionStats.ts): how many accepted characters
// survive (a longest common subsequence), how a watched range follows edits before and inside it,
// and the counters per model in a stand-in for the workspace state.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CompletionStats,
  shiftRange,
  STATS_KEY,
  survivingChars,
} from '../../src/vscode/completion/completionStats';

test('survivingChars: untouched, added to, partly replaced, deleted', () => {
  assert.equal(survivingChars('return a + b', 'return a + b'), 12);
  assert.equal(survivingChars('return a + b', 'return (a + b)'), 12, 'additions cost nothing');
  assert.equal(survivingChars('return a + b', 'return a - b'), 11);
  assert.equal(survivingChars('return a + b', 'return'), 6);
  assert.equal(survivingChars('return a + b', ''), 0);
  assert.equal(survivingChars('', 'x'), 0);
});

test('survivingChars stays bounded on long texts (prefix + suffix)', () => {
  const a = 'x'.repeat(3000);
  const b = 'x'.repeat(1000) + 'y'.repeat(1000) + 'x'.repeat(1000);
  assert.equal(survivingChars(a, b), 2000);
});

test('shiftRange: edits before shift, after leave, inside grow or shrink the range', () => {
  const r = { start: 10, end: 20 };
  assert.deepEqual(shiftRange(r, { offset: 0, removed: 0, inserted: 5 }), { start: 15, end: 25 });
  assert.deepEqual(shiftRange(r, { offset: 0, removed: 4, inserted: 0 }), { start: 6, end: 16 });
  assert.deepEqual(
    shiftRange(r, { offset: 10, removed: 0, inserted: 2 }),
    { start: 12, end: 22 },
    'typed at its start',
  );
  assert.deepEqual(shiftRange(r, { offset: 20, removed: 0, inserted: 3 }), r, 'typed right after it');
  assert.deepEqual(shiftRange(r, { offset: 30, removed: 5, inserted: 0 }), r);
  assert.deepEqual(shiftRange(r, { offset: 12, removed: 3, inserted: 1 }), { start: 10, end: 18 });
  assert.deepEqual(
    shiftRange(r, { offset: 15, removed: 10, inserted: 0 }),
    { start: 10, end: 15 },
    'tail cut',
  );
  assert.deepEqual(
    shiftRange(r, { offset: 5, removed: 20, inserted: 0 }),
    { start: 5, end: 5 },
    'all deleted',
  );
});

function memento() {
  const data = new Map<string, unknown>();
  return {
    data,
    get: <T>(k: string) => data.get(k) as T | undefined,
    update: async (k: string, v: unknown) => void data.set(k, v),
  };
}

test('per model: shown, accepted, and the characters still there after the wait', async () => {
  // A document the test edits; the stats read it back after the (short) wait.
  let doc = 'def add_8(a, b): return a + b\n';
  const m = memento();
  const stats = new CompletionStats(m, async (_uri, start, end) => doc.slice(start, end), 30);
  let changes = 0;
  stats.onDidChange(() => changes++);
  await stats.shown('/runs/a/adapter', 'run a');
  await stats.shown('/runs/a/adapter', 'run a');
  await stats.shown('/runs/b/model', 'run b');
  // "a, b): return a + b" accepted at offset 10.
  await stats.accepted('/runs/a/adapter', 'run a', 'file:///x.py', 10, 'a, b): return a + b');
  // The user types a line above (shifts it) and changes "+" to "-" (one character lost).
  doc = '# sum\n' + doc;
  stats.documentChanged('file:///x.py', [{ offset: 0, removed: 0, inserted: 6 }]);
  doc = doc.replace('a + b', 'a - b');
  stats.documentChanged('file:///x.py', [{ offset: doc.indexOf('- b'), removed: 1, inserted: 1 }]);
  stats.documentChanged('file:///other.py', [{ offset: 0, removed: 0, inserted: 100 }]);
  await new Promise((r) => setTimeout(r, 80));
  const a = stats.get('/runs/a/adapter')!;
  assert.equal(a.label, 'run a');
  assert.equal(a.shown, 2);
  assert.equal(a.accepted, 1);
  assert.equal(a.acceptedChars, 19);
  assert.equal(a.checkedChars, 19);
  assert.equal(a.survivedChars, 18);
  assert.equal(stats.get('/runs/b/model')!.accepted, 0);
  assert.deepEqual(
    stats.all().map((s) => s.model),
    ['/runs/a/adapter', '/runs/b/model'],
    'most recently used first',
  );
  assert.ok(changes >= 5);
  assert.ok(m.data.has(STATS_KEY), 'kept in the workspace state');
  await stats.reset('/runs/b/model');
  assert.equal(stats.all().length, 1);
  stats.dispose();
});

test('a document that cannot be read counts nothing as kept', async () => {
  const stats = new CompletionStats(memento(), async () => undefined, 10);
  await stats.accepted('m', 'm', 'file:///gone.py', 0, 'abc');
  await new Promise((r) => setTimeout(r, 40));
  assert.deepEqual([stats.get('m')!.checkedChars, stats.get('m')!.survivedChars], [3, 0]);
  stats.dispose();
});
