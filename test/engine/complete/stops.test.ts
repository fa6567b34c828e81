// Every stop rule and post-processing rule, with a case where it fires and one where it must not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyStopRules,
  cursorContext,
  endsWithBlockOpener,
  postProcess,
  StopRules,
  stopTokenIds,
} from '../../../src/engine/complete/stops';
import type { Tokenizer } from '../../../src/engine/tokenizer/tokenizer';

test('multi-line only on an empty line after a block opener (auto); single and multi force it', () => {
  for (const line of [
    'function f() {',
    'def f(x):',
    'call(',
    'xs = [',
    'const f = () =>',
    'for x in y do',
    'if a then',
  ])
    assert.ok(endsWithBlockOpener(line), line);
  for (const line of ['x = 1', 'return x;', 'f()', 'todo', 'const then_ = 1', '}'])
    assert.ok(!endsWithBlockOpener(line), line);

  const open = cursorContext('function f() {\n  ', '\n}\n');
  assert.equal(open.multiline, true);
  assert.equal(open.openerIndent, 0);
  assert.equal(open.lineBefore, '  ');
  assert.equal(cursorContext('if (x) {\n\n    ', '\n').multiline, true, 'blank lines between are skipped');
  assert.equal(cursorContext('function f() {\n  return ', '\n}').multiline, false, 'text before the cursor');
  assert.equal(cursorContext('function f() {\n  ', 'x;\n}').multiline, false, 'text after the cursor');
  assert.equal(cursorContext('x = 1\n', '').multiline, false, 'no opener above');
  assert.equal(cursorContext('x = 1\n', '', 'multi').multiline, true);
  assert.equal(cursorContext('x = 1\n', '', 'multi').openerIndent, null);
  assert.equal(cursorContext('def f():\n    ', '', 'single').multiline, false);
});

test('single line: stops at the first newline, keeps the line', () => {
  const ctx = cursorContext('const x = ', ';\n');
  const rules = new StopRules(ctx);
  assert.equal(rules.push('compute('), null);
  assert.equal(rules.push('1)'), null, 'no newline yet');
  assert.equal(rules.push(';\nconst y'), 'line');
  assert.equal(rules.text, 'compute(1);');
  assert.equal(rules.push('more'), 'line', 'later pieces are ignored');
  assert.equal(rules.text, 'compute(1);');
});

test('multi-line: stops at a line that dedents below the starting indentation', () => {
  const ctx = cursorContext('function f(a) {\n', '\n}', 'auto');
  const r = applyStopRules('  if (a) {\n    return 1;\n  }\n  return 2;\n}\nfunction g() {', ctx);
  assert.equal(r.stop, 'dedent');
  assert.equal(r.text, '  if (a) {\n    return 1;\n  }\n  return 2;');
  // Incrementally: the stop comes as soon as the dedented line shows a character.
  const rules = new StopRules(ctx);
  assert.equal(rules.push('  x();\n'), null);
  assert.equal(rules.push('\n'), null, 'a blank line never stops');
  assert.equal(rules.push('  '), null, 'indentation still growing');
  assert.equal(rules.push('y();\n'), null, 'same indentation continues');
  assert.equal(rules.push('}'), 'dedent');
  assert.equal(rules.text, '  x();\n\n  y();');
});

test('multi-line: the indentation on the cursor line counts; back at the opener level ends the block', () => {
  const py = cursorContext('def f(x):\n    ', '');
  const r = applyStopRules('y = x + 1\n    return y\n\ndef g():\n    pass', py);
  assert.equal(r.stop, 'dedent');
  assert.equal(r.text, 'y = x + 1\n    return y\n');
  // Deeper lines do not stop.
  assert.equal(applyStopRules('if x:\n        return 1\n    return 2', py).stop, null);
  // Forced multi-line without an opener: only a dedent below the cursor line's indentation stops.
  const forced = cursorContext('  a = 1\n  ', '', 'multi');
  assert.equal(applyStopRules('b = 2\n  c = 3\nd = 4', forced).text, 'b = 2\n  c = 3');
  assert.equal(applyStopRules('b = 2\n  c = 3\n    d = 4', forced).stop, null);
});

test('EOS and FIM end tokens are stop ids when the tokenizer has them', () => {
  const vocab = new Map([
    ['<|endoftext|>', 0],
    ['<fim_pad>', 5],
    ['<|file_sep|>', 7],
    ['<file_sep>', 8],
    ['<fim_middle>', 9],
  ]);
  const tok = { eosId: 0, tokenId: (t: string) => vocab.get(t) } as unknown as Tokenizer;
  assert.deepEqual(
    stopTokenIds(tok, [3]).sort((a, b) => a - b),
    [0, 3, 5, 7, 8, 9],
  );
  const none = { eosId: null, tokenId: () => undefined } as unknown as Tokenizer;
  assert.deepEqual(stopTokenIds(none, []), []);
});

test('post-processing: trailing whitespace trimmed, whitespace-only dropped', () => {
  const ctx = { lineBefore: '  ', lineAfter: '', suffix: '\n' };
  assert.deepEqual(postProcess('x = 1   \n  y = 2  \n\n', ctx), { text: 'x = 1\n  y = 2' });
  assert.equal(postProcess('  \n\t', ctx).text, '');
  assert.equal(postProcess('  x = 1', ctx).text, '  x = 1', 'leading indentation is kept');
});

test('post-processing: a suggestion that only repeats the text after the cursor is dropped', () => {
  const at = (prefix: string, suffix: string) => ({ ...cursorContext(prefix, suffix), suffix });
  assert.equal(postProcess('return x;', at('  ', 'return x;\n}')).text, '');
  assert.equal(postProcess('return  x;\n}', at('  ', 'return x;\n}\n')).text, '', 'whitespace aside');
  assert.equal(postProcess('  return x;', at('\n', '\n  return x;\n')).text, '', 'the next line repeated');
  const kept = postProcess('return y;', at('  ', 'return x;\n}'));
  assert.equal(kept.text, 'return y;');
  assert.equal(kept.note, undefined);
});

test('post-processing: closing brackets and quotes that follow the cursor are not repeated', () => {
  const at = (prefix: string, suffix: string) => ({ ...cursorContext(prefix, suffix), suffix });
  assert.equal(postProcess('a, b)', at('f(', ')\n')).text, 'a, b');
  assert.equal(postProcess('compute(1));', at('g(', ');\n')).text, 'compute(1)');
  assert.equal(postProcess('hello"', at('s = "', '"\n')).text, 'hello');
  assert.equal(postProcess('x: 1 }', at('o = { ', ' }\n')).text, 'x: 1 }', 'no closer run after the cursor');
  assert.equal(postProcess('a, b)', at('f(', '\n')).text, 'a, b)', 'nothing follows: keep the bracket');
  assert.equal(postProcess('(x)', at('f', ')\n')).text, '(x', 'one of the two is kept');
  assert.equal(postProcess(')', at('f(x', ')\n')).text, '', 'only the closer: nothing to show');
});

test('post-processing: no doubled space after `const best = ` — the overlap with the line is dropped', () => {
  const at = (prefix: string, suffix = '\n') => ({ ...cursorContext(prefix, suffix), suffix });
  assert.equal(postProcess(' if (a > b) a;', at('const best = ')).text, 'if (a > b) a;');
  assert.equal(postProcess('  x', at('y =  ')).text, 'x', 'two spaces after two');
  assert.equal(postProcess(' x', at('y =  ')).text, 'x');
  assert.equal(postProcess('  x', at('y = ')).text, ' x', 'only the overlap goes');
  assert.equal(postProcess(' if (a)', at('const best =')).text, ' if (a)', 'no space before: kept');
  assert.equal(postProcess('\tx', at('a\t')).text, 'x');
});
