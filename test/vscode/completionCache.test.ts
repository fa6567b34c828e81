// The provider's cache and debounce (src/vscode/completion/completionCache.ts): LRU order and capacity, exact
// hits, typed-ahead hits that serve the untyped rest of a suggestion, and misses when the user
// typed something else, typed it all, or the text after the cursor changed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CompletionCache,
  Debouncer,
  PREFIX_KEY_CHARS,
  typedAhead,
} from '../../src/vscode/completion/completionCache';

const put = (c: CompletionCache, prefix: string, text: string, suffix = '\n') =>
  c.put({ prefix, suffix, text, model: 'm', languageId: 'python' });

test('an exact context hits with the whole suggestion', () => {
  const c = new CompletionCache();
  const e = put(c, 'def add_8(', 'a, b): return a + b');
  const hit = c.get('def add_8(', '\n', 'm', 'python');
  assert.equal(hit?.entry.id, e.id);
  assert.equal(hit?.typed, 0);
  assert.equal(hit?.rest, 'a, b): return a + b');
});

test('typing the first characters of the suggestion serves the rest, same id', () => {
  const c = new CompletionCache();
  const e = put(c, 'x = 1\ndef add_8(', 'a, b): return a + b');
  for (const typed of ['a', 'a,', 'a, b): ret']) {
    const hit = c.get(`x = 1\ndef add_8(${typed}`, '\n', 'm', 'python');
    assert.equal(hit?.entry.id, e.id, typed);
    assert.equal(hit?.rest, 'a, b): return a + b'.slice(typed.length));
  }
});

test('no hit after typing something else, typing all of it, or with another suffix, model or language', () => {
  const c = new CompletionCache();
  put(c, 'def add_8(', 'a, b)');
  assert.equal(c.get('def add_8(x', '\n', 'm', 'python'), undefined);
  assert.equal(c.get('def add_8(a, b)', '\n', 'm', 'python'), undefined, 'fully typed: ask again');
  assert.equal(c.get('def add_8(a', ')\n', 'm', 'python'), undefined);
  assert.equal(c.get('def add_8(a', '\n', 'other', 'python'), undefined);
  assert.equal(c.get('def add_8(a', '\n', 'm', 'javascript'), undefined);
});

test('a suggestion that repeats its own start is matched at the right place', () => {
  // text "aaab" after prefix "x": typing "aa" leaves "ab", not "aab" or "b".
  assert.equal(typedAhead('xaa', 'x', 'aaab'), 2);
  assert.equal(typedAhead('x', 'x', 'aaab'), 0);
});

test('the key compares the last PREFIX_KEY_CHARS characters, so a long document still hits', () => {
  const c = new CompletionCache();
  const long = 'y'.repeat(PREFIX_KEY_CHARS * 3) + '\nfoo(';
  put(c, long, 'bar)');
  assert.equal(c.get('z' + long, '\n', 'm', 'python')?.rest, 'bar)', 'a change far above the cursor');
  assert.equal(c.get(long + 'ba', '\n', 'm', 'python')?.rest, 'r)');
});

test('LRU: the least recently used entry goes first; a hit refreshes an entry', () => {
  const c = new CompletionCache(2);
  put(c, 'a', '1');
  put(c, 'b', '2');
  assert.ok(c.get('a', '\n', 'm', 'python')); // a is now the newest
  put(c, 'c', '3'); // evicts b
  assert.equal(c.size, 2);
  assert.ok(c.get('a', '\n', 'm', 'python'));
  assert.equal(c.get('b', '\n', 'm', 'python'), undefined);
  assert.ok(c.get('c', '\n', 'm', 'python'));
});

test('the newest matching entry wins a typed-ahead tie', () => {
  const c = new CompletionCache();
  put(c, 'f(', 'a)');
  const newer = put(c, 'f(', 'a, b)');
  assert.equal(c.get('f(a', '\n', 'm', 'python')?.entry.id, newer.id);
});

test('debounce: of a burst of calls only the last goes on; a cancelled one does not', async () => {
  const d = new Debouncer();
  const burst = await Promise.all([d.wait(20), d.wait(20), d.wait(20)]);
  assert.deepEqual(burst, [false, false, true]);
  assert.equal(await d.wait(5, () => true), false, 'cancelled while waiting');
  assert.equal(await d.wait(0), true, 'no wait (explicit trigger)');
});

test('debounce: a call that comes after the previous one finished waiting does not cancel it', async () => {
  const sleeps: (() => void)[] = [];
  const d = new Debouncer((ms) => new Promise<void>((r) => sleeps.push(() => (void ms, r()))));
  const first = d.wait(100);
  sleeps.shift()!();
  assert.equal(await first, true);
  const second = d.wait(100);
  const third = d.wait(100);
  sleeps.shift()!();
  sleeps.shift()!();
  assert.deepEqual(await Promise.all([second, third]), [false, true]);
});
