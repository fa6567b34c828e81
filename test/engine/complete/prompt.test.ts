// Prompt building at the cursor: the FIM layout per family (StarCoder-style and Qwen-style markers,
// found by data/fim.ts), prefix-only for a model without FIM tokens, and the token budget (the end
// of the prefix and the start of the suffix kept, cut at line boundaries, the start stable while
// typing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFimTokens } from '../../../src/engine/tokenizer/fimTokens';
import { buildCompletionPrompt, PREFIX_LINE_STRIDE } from '../../../src/engine/complete/prompt';
import { writeGpt2TokenizerFiles } from '../../../fixtures/gpt2Tokenizer';
import { STARCODER_SPECIAL_TOKENS } from '../../../fixtures/tinyBigCode';
import { QWEN2_SPECIAL_TOKENS } from '../../../fixtures/tinyLlama';
import { loadTokenizer, type Tokenizer } from '../../../src/engine/tokenizer/tokenizer';

const tmp = mkdtempSync(join(tmpdir(), 'lt-prompt-'));
async function tokenizerWith(name: string, extra: string[]): Promise<Tokenizer> {
  writeGpt2TokenizerFiles(join(tmp, name), { extraSpecialTokens: extra });
  return loadTokenizer(join(tmp, name));
}

const PREFIX = 'def add(a, b):\n    return ';
const SUFFIX = '\n\nprint(add(1, 2))\n';

test('StarCoder-style FIM: <fim_prefix>P<fim_suffix>S<fim_middle>, pieces tokenized apart', async () => {
  const tok = await tokenizerWith('starcoder', STARCODER_SPECIAL_TOKENS);
  const fim = findFimTokens(tok);
  assert.equal(fim?.style, 'starcoder');
  const p = buildCompletionPrompt({ prefix: PREFIX, suffix: SUFFIX, tokenizer: tok, fim, budgetTokens: 100 });
  assert.equal(tok.decode(p.ids), `<fim_prefix>${PREFIX}<fim_suffix>${SUFFIX}<fim_middle>`);
  assert.deepEqual(p.ids, [
    fim!.prefix,
    ...tok.encode(PREFIX),
    fim!.suffix,
    ...tok.encode(SUFFIX),
    fim!.middle,
  ]);
  assert.equal(p.prefixStart, 0);
  assert.equal(p.suffixEnd, SUFFIX.length);
});

test('SPM, where the model asks for it: <fim_prefix><fim_suffix>S<fim_middle>P, the prefix last', async () => {
  const tok = await tokenizerWith('starcoder-spm', STARCODER_SPECIAL_TOKENS);
  const fim = findFimTokens(tok)!;
  const context = '// Compare this snippet from src/add.ts:\n// const add = (a, b) => a + b;\n';
  const p = buildCompletionPrompt({
    prefix: PREFIX,
    suffix: SUFFIX,
    tokenizer: tok,
    fim,
    budgetTokens: 100,
    context,
    fimLayout: 'spm',
  });
  assert.deepEqual(p.ids, [
    fim.prefix,
    fim.suffix,
    ...tok.encode(SUFFIX),
    fim.middle,
    ...tok.encode(context),
    ...tok.encode(PREFIX),
  ]);
  // The answer follows the prefix's last token: healing and the prompt cache key on prefixEnd.
  assert.equal(p.prefixEnd, p.ids.length);
  assert.equal(p.prefixTokens, tok.encode(PREFIX).length);
  assert.equal(p.suffixEnd, SUFFIX.length);
});

test('Qwen-style FIM: <|fim_prefix|>P<|fim_suffix|>S<|fim_middle|>', async () => {
  const tok = await tokenizerWith('qwen', QWEN2_SPECIAL_TOKENS);
  const fim = findFimTokens(tok);
  assert.equal(fim?.style, 'qwen');
  const p = buildCompletionPrompt({ prefix: PREFIX, suffix: SUFFIX, tokenizer: tok, fim, budgetTokens: 100 });
  assert.equal(tok.decode(p.ids), `<|fim_prefix|>${PREFIX}<|fim_suffix|>${SUFFIX}<|fim_middle|>`);
});

test('a model without FIM tokens gets the prefix only', async () => {
  const tok = await tokenizerWith('plain', []);
  const fim = findFimTokens(tok);
  assert.equal(fim, null);
  const p = buildCompletionPrompt({ prefix: PREFIX, suffix: SUFFIX, tokenizer: tok, fim, budgetTokens: 100 });
  assert.deepEqual(p.ids, tok.encode(PREFIX));
  assert.equal(p.suffixEnd, 0);
  const empty = buildCompletionPrompt({ prefix: '', suffix: SUFFIX, tokenizer: tok, fim, budgetTokens: 100 });
  assert.deepEqual(empty.ids, []);
});

const lines = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `const value${from + i} = compute(${from + i});\n`).join('');

test('over budget: the end of the prefix and the start of the suffix are kept, cut at line starts', async () => {
  const tok = await tokenizerWith('budget', STARCODER_SPECIAL_TOKENS);
  const fim = findFimTokens(tok);
  const prefix = lines(0, 200) + '  const x = ';
  const suffix = ';\n' + lines(200, 400);
  const budget = 600;
  const p = buildCompletionPrompt({ prefix, suffix, tokenizer: tok, fim, budgetTokens: budget });
  assert.ok(p.ids.length <= budget, `${p.ids.length} tokens`);
  assert.ok(p.ids.length > budget * 0.6, `uses most of the budget: ${p.ids.length}`);
  const keptPrefix = prefix.slice(p.prefixStart);
  const keptSuffix = suffix.slice(0, p.suffixEnd);
  assert.ok(p.prefixStart > 0 && prefix[p.prefixStart - 1] === '\n', 'the prefix starts at a line');
  assert.ok(keptPrefix.endsWith('  const x = '), 'the end of the prefix (the cursor line) is kept');
  assert.ok(keptSuffix.startsWith(';\n') && keptSuffix.endsWith('\n'), 'the suffix ends at a line end');
  assert.ok(p.suffixEnd < suffix.length);
  // The suffix takes about its share of the budget.
  const suffixTokens = tok.encode(keptSuffix).length;
  assert.ok(suffixTokens <= budget * 0.25 && suffixTokens > budget * 0.15, `suffix: ${suffixTokens}`);
  assert.deepEqual(p.ids, [
    fim!.prefix,
    ...tok.encode(keptPrefix),
    fim!.suffix,
    ...tok.encode(keptSuffix),
    fim!.middle,
  ]);
});

test('the kept prefix starts at a stride line and stays put while the user types', async () => {
  const tok = await tokenizerWith('stable', []);
  const base = lines(0, 300);
  const starts = new Set<number>();
  for (const typed of ['c', 'co', 'con', 'cons', 'const', 'const y', 'const y = 1;']) {
    const p = buildCompletionPrompt({
      prefix: base + typed,
      suffix: '',
      tokenizer: tok,
      fim: null,
      budgetTokens: 400,
    });
    assert.ok(p.ids.length <= 400);
    const lineIndex = (base + typed).slice(0, p.prefixStart).split('\n').length - 1;
    assert.equal(lineIndex % PREFIX_LINE_STRIDE, 0, `starts at line ${lineIndex}`);
    starts.add(p.prefixStart);
  }
  assert.equal(starts.size, 1, 'one start for every keystroke: the prompt cache keeps matching');
});

test('a single line longer than the budget is cut by tokens, keeping the text nearest the cursor', async () => {
  const tok = await tokenizerWith('long', []);
  const prefix = 'x = [' + Array.from({ length: 300 }, (_, i) => i).join(', ');
  const p = buildCompletionPrompt({ prefix, suffix: '', tokenizer: tok, fim: null, budgetTokens: 50 });
  assert.equal(p.ids.length, 50);
  assert.ok(prefix.endsWith(tok.decode(p.ids)), 'the last 50 tokens of the line');
});
