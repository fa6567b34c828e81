// The provider's text rules (src/vscode/completion/completionText.ts) and what serves completions
// (src/vscode/completion/completionModel.ts): when not to ask, how a suggestion becomes an edit, per-language
// enablement, the served model of each kind of folder, and the files the scrubber flagged.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { flaggedFiles, resolveServedModel } from '../../src/vscode/completion/completionModel';
import { fitSuggestion, languageEnabled, skipReason } from '../../src/vscode/completion/completionText';

test('skipReason: only closers, punctuation and spaces may follow the cursor', () => {
  assert.equal(skipReason(''), undefined);
  assert.equal(skipReason(')'), undefined);
  assert.equal(skipReason('"]);  '), undefined);
  assert.match(skipReason('foo)') ?? '', /right of the cursor/);
});

test('fitSuggestion: plain insert, closers replaced not doubled, pure repeats and blanks dropped', () => {
  assert.deepEqual(fitSuggestion('a, b)', ''), { insertText: 'a, b)', replaceChars: 0 });
  assert.deepEqual(fitSuggestion('a, b):', '):'), { insertText: 'a, b):', replaceChars: 2 });
  assert.deepEqual(fitSuggestion('a, b)  ', ')'), { insertText: 'a, b)', replaceChars: 1 });
  assert.deepEqual(fitSuggestion('a, b', ')'), { insertText: 'a, b', replaceChars: 0 });
  assert.deepEqual(
    fitSuggestion('a, b): return a + b', ')'),
    { insertText: 'a, b): return a + b', replaceChars: 1 },
    'the closer inside the suggestion: replaced, shown as ghost text around it',
  );
  assert.deepEqual(fitSuggestion('x]', ')]'), { insertText: 'x]', replaceChars: 0 }, 'not all of it: insert');
  assert.equal(fitSuggestion(')', ')'), undefined, 'only repeats what follows');
  assert.equal(fitSuggestion('  \n', ''), undefined);
  assert.deepEqual(
    fitSuggestion('x\n    y)', ')'),
    { insertText: 'x\n    y)', replaceChars: 0 },
    'multi-line: insert',
  );
});

test('languageEnabled: the language, else *, else on', () => {
  assert.equal(languageEnabled({}, 'python'), true);
  assert.equal(languageEnabled({ '*': false }, 'python'), false);
  assert.equal(languageEnabled({ '*': false, python: true }, 'python'), true);
  assert.equal(languageEnabled({ '*': true, markdown: false }, 'markdown'), false);
});

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'lt-complete-model-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

test('resolveServedModel: adapter + base from run.json or adapter_config, tuned model, export, errors', async () => {
  const base = folder({ 'config.json': '{}' });
  const run = folder({
    'run.json': JSON.stringify({ version: 1, title: 'my run', spec: { mode: 'lora', modelDir: base } }),
    'adapter/adapter_config.json': JSON.stringify({ base_model_name_or_path: 'org/hub-id' }),
    'model/config.json': '{}',
    'export-int8/onnx/model.onnx': '',
    'checkpoints/step-000004/model.safetensors': '',
  });
  const a = await resolveServedModel(join(run, 'adapter'));
  assert.ok(!('error' in a));
  assert.deepEqual(a.source, { modelDir: base, adapterDir: join(run, 'adapter') });
  assert.equal(a.label, 'my run');
  assert.equal(a.runDir, run);

  const m = await resolveServedModel(join(run, 'model'));
  assert.ok(!('error' in m) && 'modelDir' in m.source && m.source.modelDir === join(run, 'model'));
  const e = await resolveServedModel(join(run, 'export-int8'));
  assert.ok(!('error' in e) && 'exportDir' in e.source);
  const ck = await resolveServedModel(join(run, 'checkpoints', 'step-000004'));
  assert.ok('error' in ck && /weights only/.test(ck.error));
  assert.ok('error' in (await resolveServedModel(join(run, 'nope'))));

  // Without run.json the adapter names its base: a hub id goes through findBase.
  const loose = folder({ 'adapter_config.json': JSON.stringify({ base_model_name_or_path: 'org/hub-id' }) });
  const viaHub = await resolveServedModel(loose, async (id) => (id === 'org/hub-id' ? base : undefined));
  assert.ok(!('error' in viaHub) && 'modelDir' in viaHub.source && viaHub.source.modelDir === base);
  const missing = await resolveServedModel(loose);
  assert.ok('error' in missing && /org\/hub-id/.test(missing.error));
});

test('flaggedFiles: files with findings not marked allowed, for one or several sources', () => {
  const manifest = (sources: { path: string; kind: string }[]) =>
    JSON.stringify({ format: 'localtune-dataset', version: 1, tokens: { train: 1, validation: 0 }, sources });
  const one = folder({
    'manifest.json': manifest([{ path: '/ws', kind: 'workspace' }]),
    'scrub-report.json': JSON.stringify({
      files: [
        { file: 'src/keys.ts', findings: [{ kind: 'aws-key', line: 3, count: 1 }] },
        { file: 'src/ok.ts', findings: [{ kind: 'email', line: 1, count: 1, allowed: true }] },
      ],
    }),
  });
  const several = folder({
    'manifest.json': manifest([
      { path: '/ws', kind: 'workspace' },
      { path: '/data/notes.txt', kind: 'text' },
    ]),
    'scrub-report.json': JSON.stringify({
      files: [
        { file: 'ws/config/prod.env', findings: [{ kind: 'secret-assignment', line: 1, count: 2 }] },
        { file: 'notes.txt', findings: [{ kind: 'email', line: 9, count: 1 }] },
      ],
    }),
  });
  const flagged = flaggedFiles([one, several, '/no/such/dataset']);
  assert.ok(flagged.has('/ws/src/keys.ts'));
  assert.ok(!flagged.has('/ws/src/ok.ts'), 'a finding marked as a false positive');
  assert.ok(flagged.has('/ws/config/prod.env'));
  assert.ok(flagged.has('/data/notes.txt'));
});
