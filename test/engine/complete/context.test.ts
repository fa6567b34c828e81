// Workspace context: relative imports resolved on real files (JS/TS and Python), the window of
// another file most like the code before the cursor, rendered as comments naming the file, and
// placed before the prefix within its share of the prompt budget (real GPT-2 tokenizer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pickSnippets, renderSnippets } from '../../../src/engine/complete/context';
import { relativeImports } from '../../../src/engine/complete/imports';
import { buildCompletionPrompt } from '../../../src/engine/complete/prompt';
import { loadTokenizer } from '../../../src/engine/tokenizer/tokenizer';
import { writeGpt2Model } from '../../../fixtures/tinyModel';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'lt-ctx-'));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  return root;
}

test('relative imports resolve to files on disk: extensions, index files, .js naming .ts, Python dots; packages left out', () => {
  const root = tree({
    'src/util.ts': 'export const a = 1;\n',
    'src/lib/index.ts': 'export {};\n',
    'src/esm.ts': 'export {};\n',
    'src/old.js': 'module.exports = {};\n',
    'pkg/helpers.py': 'def h(): pass\n',
    'pkg/sub/__init__.py': '',
    'pkg/sibling.py': '',
  });
  const main = join(root, 'src/main.ts');
  const js = `import { a } from './util';\nimport x from './lib';\nimport './esm.js';\nconst o = require('./old');\nimport react from 'react';\nimport gone from './missing';\n`;
  assert.deepEqual(relativeImports(main, js, 'typescript'), [
    join(root, 'src/util.ts'),
    join(root, 'src/lib/index.ts'),
    join(root, 'src/esm.ts'),
    join(root, 'src/old.js'),
  ]);
  const py = 'from .helpers import h\nfrom .sub import thing\nfrom . import sibling\nimport os\n';
  assert.deepEqual(relativeImports(join(root, 'pkg/main.py'), py, 'python'), [
    join(root, 'pkg/helpers.py'),
    join(root, 'pkg/sub/__init__.py'),
    join(root, 'pkg/sibling.py'),
  ]);
});

test('the snippet of another file is its window most like the code before the cursor; unrelated files give none', () => {
  const filler = Array.from({ length: 60 }, (_, i) => `const pad${i} = ${i};`).join('\n');
  const files = [
    {
      path: 'src/geometry.ts',
      text: `${filler}\nexport function areaOfCircle(radius: number) {\n  return Math.PI * radius * radius;\n}\n${filler}`,
    },
    { path: 'README.md', text: 'zzz qqq www\n' },
  ];
  const snippets = pickSnippets(
    files,
    'import { areaOfCircle } from "./geometry";\nconst radius = 2;\nconst a = areaOfCircle(',
  );
  assert.equal(snippets.length, 1);
  assert.equal(snippets[0].path, 'src/geometry.ts');
  assert.match(snippets[0].text, /export function areaOfCircle\(radius: number\)/);
  const text = renderSnippets(snippets, 'typescript');
  assert.match(text, /^\/\/ Path: src\/geometry\.ts\n/);
  assert.ok(
    text
      .split('\n')
      .filter(Boolean)
      .every((l) => l.startsWith('//')),
  );
  assert.match(renderSnippets(snippets, 'python'), /^# Path: src\/geometry\.ts\n/);
});

test('the context goes before the prefix, within its share of the budget, and the prefix keeps the rest', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'lt-ctx-tok-')), 'gpt2');
  await writeGpt2Model(dir, { nLayer: 1, nHead: 2, nEmbd: 16, nPositions: 64 }, 1);
  const tokenizer = await loadTokenizer(dir);
  const context = '// Path: a.ts\n// export const answer = 42;\n';
  const prefix = 'const x = answer';
  const p = buildCompletionPrompt({ prefix, suffix: '', tokenizer, fim: null, budgetTokens: 200, context });
  assert.deepEqual(p.ids, tokenizer.encode(context + prefix));
  assert.equal(p.contextTokens, tokenizer.encode(context).length);
  assert.equal(p.prefixEnd, p.ids.length);
  // A long context is cut to its share (the lines nearest the code kept); the prefix is whole.
  const long = Array.from({ length: 200 }, (_, i) => `// line ${i} of another file`).join('\n') + '\n';
  const q = buildCompletionPrompt({
    prefix,
    suffix: '',
    tokenizer,
    fim: null,
    budgetTokens: 100,
    context: long,
  });
  assert.ok(q.contextTokens <= 30 && q.contextTokens > 0, `${q.contextTokens} context tokens`);
  assert.equal(q.prefixStart, 0);
  assert.match(tokenizer.decode(q.ids), /line 199 of another file\nconst x = answer$/);
});
