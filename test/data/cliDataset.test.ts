import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runDatasetCommand } from '../../src/cli/dataset';
import { writeGpt2Model, TINY_GPT2 } from '../../fixtures/tinyModel';
import { codeFile, FIM_STARCODER, tempDir, writeTree } from './helpers';

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runDatasetCommand(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

test('dataset build then show, as text and as JSON', async () => {
  const modelDir = tempDir('model');
  await writeGpt2Model(modelDir, TINY_GPT2, 0, { extraSpecialTokens: FIM_STARCODER });
  const root = tempDir('ws');
  const files: Record<string, string> = {
    'node_modules/x/y.js': 'x',
    'notes.txt': 'contact me at a.b@example.com\n',
  };
  for (let i = 0; i < 10; i++) files[`src/m${i}.py`] = `def m${i}():\n    return ${i}\n`;
  writeTree(root, files);
  const outDir = join(tempDir('out'), 'ds');

  const buildArgs = [
    'build',
    '--from',
    root,
    '--model',
    modelDir,
    '--out',
    outDir,
    '--fim-rate',
    '0.3',
    '--seed',
    '4',
  ];
  const built = await run(buildArgs);
  assert.equal(built.code, 0, built.err.join('\n'));
  assert.match(built.out.join('\n'), /train: +\d+ documents/);
  assert.match(built.out.join('\n'), /skipped: +1 vendored/);
  assert.match(built.out.join('\n'), /scrubbed: +1 email/);
  assert.match(built.out.at(-1)!, /read 11 files, tokenized 11 documents/);

  const again = await run([...buildArgs, '--json']);
  assert.equal(again.code, 0);
  const msg = JSON.parse(again.out.at(-1)!);
  assert.equal(msg.type, 'dataset');
  assert.equal(msg.filesRead, 0);
  assert.equal(msg.manifest.documents.train + msg.manifest.documents.validation, 11);
  assert.equal(msg.manifest.fim.style, 'starcoder');

  const shown = await run(['show', outDir, '--samples', '2']);
  assert.equal(shown.code, 0);
  assert.equal(shown.out.filter((l) => l.startsWith('--- sample')).length, 2);
  const shownJson = JSON.parse((await run(['show', outDir, '--json', '--samples', '1'])).out[0]);
  assert.equal(shownJson.samples.length, 1);
  assert.equal(shownJson.manifest.contentHash, msg.manifest.contentHash);
});

test('user errors are one line and exit code 2', async () => {
  const root = tempDir('ws');
  writeTree(root, { 'a.ts': codeFile(1) });
  const cases: [string[], RegExp][] = [
    [['build', '--model', root, '--out', root], /--from is required/],
    [['build', '--from', root, '--out', root], /--model is required/],
    [
      ['build', '--from', root, '--model', join(root, 'none'), '--out', root],
      /none: no such (model )?folder/,
    ],
    [
      ['build', '--from', root, '--model', root, '--out', root, '--split', 'time'],
      /--split time: use "file", "folder", "recency"/,
    ],
    [
      ['build', '--from', root, '--model', root, '--out', root, '--fim-rate', 'x'],
      /--fim-rate must be a number, non-negative \(got "x"\)/,
    ],
    // The engine names its options (fimRate, sources); the CLI shows them as flags.
    [
      ['build', '--from', root, '--model', root, '--out', root, '--fim-rate', '2'],
      /^error: --fim-rate 2: must be a number from 0 to 1$/,
    ],
    [
      ['build', '--from', join(root, 'gone'), '--model', root, '--out', root],
      /gone: no such file or folder; check the --from path$/,
    ],
    [['build', '--from', root, '--model', root, '--out', root, '--bogus'], /Unknown option '--bogus'/],
    [['show', root], /not a dataset folder/],
    [['frobnicate'], /unknown dataset command "frobnicate"/],
  ];
  for (const [argv, re] of cases) {
    const r = await run(argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.equal(r.err.length, 1, argv.join(' '));
    assert.match(r.err[0], re);
    assert.ok(!r.err[0].includes('\n'));
  }
});

test('--scrub-allow keeps a marked false positive in the text', async () => {
  const modelDir = tempDir('model');
  await writeGpt2Model(modelDir, TINY_GPT2, 0);
  const root = tempDir('ws');
  writeTree(root, { 'net.ts': 'const dns = "8.8.8.8";\nconst other = "9.9.9.9";\n', 'b.ts': codeFile(2) });
  const allow = join(tempDir('allow'), 'allow.json');
  writeFileSync(allow, JSON.stringify({ 'net.ts': [{ kind: 'ip-address', line: 1 }] }));
  const outDir = join(tempDir('out'), 'ds');
  const r = await run([
    'build',
    '--from',
    root,
    '--model',
    modelDir,
    '--out',
    outDir,
    '--scrub-allow',
    allow,
    '--json',
    '--val-fraction',
    '0',
  ]);
  assert.equal(r.code, 0, r.err.join('\n'));
  const m = JSON.parse(r.out.at(-1)!).manifest;
  assert.deepEqual(m.scrub.findings, { 'ip-address': 1 });
  assert.equal(m.scrub.allowed, 1);
  const shown = JSON.parse((await run(['show', outDir, '--json', '--samples', '5'])).out[0]);
  const text = shown.samples.map((s: { text: string }) => s.text).join('\n');
  assert.match(text, /dns = "8\.8\.8\.8"/);
  assert.match(text, /other = "<IP_ADDRESS>"/);
});
