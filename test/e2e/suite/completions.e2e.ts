/// <reference types="mocha" />
// Inline completions in a real VS Code: a small model tuned on a regular corpus (one line per
// function, `def add_N(a, b): return a + b`) is chosen with Use for Completions; typing the start
// of the pattern shows the rest as ghost text (asked through the provider, and read back from the
// editor's ghost-text decorations in the DOM), Tab accepts it, toggling off removes it, and the
// dashboard's page shows the local counters (read back from the webview's DOM).
//
// The fixture: a GPT-2-shaped model without FIM tokens (prefix-only prompts), fully fine-tuned
// for 20 steps by the CLI (the engine, as a training run writes it), cached in .cache/e2e/ under a
// hash of the code that makes it (the bundled CLI, the fixture writers) and its recipe.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import { sourceHash } from '../../../scripts/sourceHash.mjs';
import { writeRunRecord } from '../../../src/jobs/runs';
import type { ProvideOutcome } from '../../../src/vscode/completion/completionProvider';
import { domTexts, screenshot, waitFor, waitForText } from './helpers';
import { afterReload, localtune } from './localtuneHelpers';

const run = promisify(execFile);
const FIXTURE = 'completion-fixture';
const SHAPE = { nLayer: 2, nHead: 4, nEmbd: 128, nPositions: 256 };
const TITLE = 'e2e completions fixture';
const EXPECTED = 'a, b): return a + b';

// The recipe: trained-scale embeddings learn fast; no FIM tokens, so the worker prompts with the
// prefix only.
const BASE_OPTIONS = { seed: 0, embeddingStd: 0.3 };
const CORPUS = Array.from({ length: 400 }, (_, i) => `def add_${i}(a, b): return a + b\n`).join('');
const TRAIN_ARGS = ['--mode', 'full', '--steps', '20', '--lr', '1e-2', '--seq-len', '64'];

/**
 * The tuned fixture (base model + a run folder with model/), built once per hash of the code that
 * makes it: dist/cli.js trains it (the test command builds it first), fixtures/ writes the base.
 */
async function ensureFixture(root: string): Promise<{ base: string; corpus: string; trained: string }> {
  const cache = join(root, '.cache', 'e2e');
  const key = sourceHash(
    root,
    ['dist/cli.js', 'fixtures'],
    JSON.stringify({ SHAPE, BASE_OPTIONS, CORPUS, TRAIN_ARGS }),
  );
  const dir = join(cache, `${FIXTURE}-${key}`);
  const base = join(dir, 'base');
  const corpus = join(dir, 'adds.py');
  const trained = join(dir, 'run');
  if (existsSync(join(trained, 'model', 'model.safetensors'))) return { base, corpus, trained };
  // Fixtures made by older code are of no more use.
  for (const old of existsSync(cache) ? readdirSync(cache) : [])
    if (old.startsWith(`${FIXTURE}-`)) rmSync(join(cache, old), { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  console.log(`[e2e] building the completion fixture in ${dir} (about a minute, then cached)`);
  const write = `require('./fixtures/tinyModel').writeGpt2Model(${JSON.stringify(base)}, ${JSON.stringify(SHAPE)}, ${BASE_OPTIONS.seed}, { embeddingStd: ${BASE_OPTIONS.embeddingStd} })`;
  await run(process.execPath, ['--import', 'tsx', '-e', write], { cwd: root });
  writeFileSync(corpus, CORPUS);
  const tmp = join(dir, 'run.tmp');
  const args = ['train', '--model', base, '--data', corpus, ...TRAIN_ARGS];
  args.push('--eval-every', '0', '--checkpoint-every', '0', '--out', tmp);
  await run(process.execPath, [join(root, 'dist', 'cli.js'), ...args], { cwd: root, maxBuffer: 1 << 24 });
  renameSync(tmp, trained);
  return { base, corpus, trained };
}

async function debugComplete(): Promise<
  ProvideOutcome & { items: { insertText: string; range: number[] }[] }
> {
  return (await vscode.commands.executeCommand('localtune.completions.debugComplete'))!;
}

/**
 * debugComplete once more when the editor's own (automatic) request, sent after its debounce,
 * superseded it: the worker answers the newest request; the test asks again.
 */
async function debugCompleteSettled(): Promise<Awaited<ReturnType<typeof debugComplete>>> {
  const first = await debugComplete();
  return /superseded/.test(first.reason ?? '') ? debugComplete() : first;
}

async function typeText(text: string): Promise<void> {
  await vscode.commands.executeCommand('type', { text });
}

/** The ghost text the editor draws: its inline decorations (and lines below, if any), joined. */
async function ghostText(): Promise<string> {
  return (await domTexts('.monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text')).join('');
}

/**
 * Waits for the editor to draw `expected` as ghost text. A closing parenthesis the editor already
 * auto-inserted after the cursor is drawn between the decorations, not in them.
 */
async function waitForGhost(expected: string | RegExp): Promise<string> {
  const accept = (drawn: string) =>
    typeof expected === 'string'
      ? [expected, expected.replace(')', '')].includes(drawn)
      : expected.test(drawn);
  let last = '';
  const drawn = await waitFor(
    `the editor to draw the ghost text ${typeof expected === 'string' ? JSON.stringify(expected) : expected}`,
    async () => {
      last = await ghostText();
      return accept(last) ? last : undefined;
    },
    10_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; it draws ${JSON.stringify(last)}`);
  });
  return drawn!;
}

/** Waits for line `n` of the editor to read `expected`, naming what it reads on a timeout. */
async function waitForLine(
  editor: vscode.TextEditor,
  n: number,
  expected: string,
  what: string,
): Promise<void> {
  await waitFor(what, () => editor.document.lineAt(n).text === expected).catch((err: Error) => {
    throw new Error(
      `${err.message}: expected ${JSON.stringify(expected)}, the line reads ${JSON.stringify(editor.document.lineAt(n).text)}`,
    );
  });
}

/**
 * Puts the cursor on a new empty last line with a plain newline: the editor's own new-line command
 * indents after a line the model left open (`def add_9(`), and the line would not start at column 0.
 */
async function newLastLine(editor: vscode.TextEditor): Promise<void> {
  const last = editor.document.lineAt(editor.document.lineCount - 1);
  if (last.text !== '') await editor.edit((e) => e.insert(last.range.end, '\n'));
  const end = editor.document.lineAt(editor.document.lineCount - 1).range.end;
  editor.selection = new vscode.Selection(end, end);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (!afterReload())
  describe('LocalTune completions', function () {
    const ws = () => process.env.LOCALTUNE_E2E_WORKSPACE ?? vscode.workspace.workspaceFolders![0].uri.fsPath;
    let runDir = '';
    let modelDir = '';
    let file = '';
    let editor: vscode.TextEditor;
    const shown = async () => (await localtune()).completions.stats.get(modelDir)?.shown ?? 0;

    before(async function () {
      this.timeout(300_000);
      const api = await localtune();
      const root = vscode.extensions.getExtension('localtune.localtune')!.extensionPath;
      const fixture = await ensureFixture(root);
      // The cached run becomes a finished run of this workspace, as a training run leaves it.
      runDir = join(ws(), '.localtune', 'runs', 'e2e-completions');
      cpSync(fixture.trained, runDir, { recursive: true });
      writeRunRecord(runDir, {
        title: TITLE,
        spec: { modelDir: fixture.base, data: [fixture.corpus], mode: 'full', steps: 20, outDir: runDir },
        status: 'finished',
        finalDir: join(runDir, 'model'),
      });
      api.runs.refresh();
      file = join(ws(), 'adds_demo.py');
      writeFileSync(file, 'def add_1(a, b): return a + b\ndef add_2(a, b): return a + b\n');
    });

    after(async function () {
      const c = vscode.workspace.getConfiguration('localtune');
      await c.update('completions.enabled', undefined, vscode.ConfigurationTarget.Workspace);
      await c.update('completions.model', undefined, vscode.ConfigurationTarget.Workspace);
      await c.update('completions.languages', undefined, vscode.ConfigurationTarget.Workspace);
      if (editor?.document.isDirty) await editor.document.save();
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      rmSync(file, { force: true });
    });

    it('Use for Completions serves the tuned run; the status bar names it', async function () {
      const api = await localtune();
      modelDir = (await vscode.commands.executeCommand<string>('localtune.useForCompletions', runDir))!;
      assert.equal(modelDir, join(runDir, 'model'));
      await waitFor(
        'the completion worker to load the model',
        () => api.completions.describe().state === 'ready',
        60_000,
      );
      assert.match(api.completions.describe().text, new RegExp(TITLE));
      const node = api.runs.getChildren().find((n) => n.kind === 'run' && n.run.runDir === runDir)!;
      assert.match(String(api.runs.getTreeItem(node).description), /completions/);
    });

    it('typing the pattern shows the expected ghost text; Tab accepts it', async function () {
      const api = await localtune();
      editor = await vscode.window.showTextDocument(vscode.Uri.file(file));
      const end = editor.document.lineAt(editor.document.lineCount - 1).range.end;
      editor.selection = new vscode.Selection(end, end);

      // Measured first, at new places each time: provider call to items, model (cache miss) and
      // typed ahead one character (cache hit), as an explicit trigger (no debounce).
      const miss: number[] = [];
      const hit: number[] = [];
      for (let n = 10; n < 18; n++) {
        await typeText(`def add_${n}(`);
        const m = await debugCompleteSettled();
        assert.equal(m.source, 'model', JSON.stringify(m));
        assert.equal(m.items[0]?.insertText, EXPECTED, JSON.stringify(m));
        miss.push(m.latencyMs!);
        await typeText('a');
        const h = await debugComplete();
        assert.equal(h.source, 'cache', JSON.stringify(h));
        assert.equal(h.items[0]?.insertText, EXPECTED.slice(1));
        hit.push(h.latencyMs!);
        await vscode.commands.executeCommand('editor.action.inlineSuggest.hide');
        await vscode.commands.executeCommand('deleteAllLeft'); // the line again empty
        await vscode.commands.executeCommand('deleteRight');
      }
      console.log(
        `[e2e] completion latency, provider call to items: model p50 ${median(miss).toFixed(1)} ms ` +
          `(max ${Math.max(...miss).toFixed(1)}), typed ahead (cache) p50 ${median(hit).toFixed(2)} ms`,
      );

      // As a user: type, wait for the editor to ask (debounce) and the ghost text to come.
      const before = await shown();
      const typed = performance.now();
      await typeText('def add_8('); // the editor asks by itself (automatic trigger, debounced)
      await waitFor('the editor to receive a suggestion', async () => (await shown()) > before, 10_000);
      const visibleAfter = performance.now() - typed;
      console.log(
        `[e2e] keystroke to suggestion in the editor: ${visibleAfter.toFixed(0)} ms (debounce ${vscode.workspace
          .getConfiguration('localtune.completions')
          .get('debounceMs')} ms included); status bar: ${api.completions.describe().text}`,
      );
      const line = editor.document.lineAt(editor.selection.active.line);
      await waitForGhost(EXPECTED);
      await screenshot('completions-ghost-text');
      const o = await debugComplete();
      assert.equal(o.items[0]?.insertText, EXPECTED, JSON.stringify(o));

      await vscode.commands.executeCommand('editor.action.inlineSuggest.commit');
      await waitFor('Tab to insert the suggestion', () =>
        /^def add_8\(a, b\): return a \+ b\)?$/.test(editor.document.lineAt(line.lineNumber).text),
      );
      assert.equal(
        editor.document.lineAt(line.lineNumber).text,
        'def add_8(a, b): return a + b',
        'one closing parenthesis, not two',
      );
      await waitFor(
        'the acceptance to be counted',
        () => api.completions.stats.get(modelDir)?.accepted === 1,
      );
    });

    it('toggling completions off removes the ghost text; per-language enablement', async function () {
      const api = await localtune();
      await vscode.commands.executeCommand('editor.action.insertLineAfter');
      const before = await shown();
      await typeText('def add_9(');
      await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
      await waitFor('the ghost text', async () => (await shown()) > before, 10_000);
      const lineNumber = editor.selection.active.line;
      const lineText = editor.document.lineAt(lineNumber).text;

      await waitForGhost(EXPECTED);
      assert.equal(await vscode.commands.executeCommand('localtune.toggleCompletions'), false);
      await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
      await waitFor('the ghost text to go', async () => (await ghostText()) === '', 10_000);
      await screenshot('completions-toggled-off');
      assert.equal((await debugComplete()).reason, 'completions are off');
      await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
      await sleep(500);
      await vscode.commands.executeCommand('editor.action.inlineSuggest.commit');
      await sleep(300);
      assert.equal(editor.document.lineAt(lineNumber).text, lineText, 'nothing to accept');
      assert.match(api.completions.describe().text, /circle-slash/);

      assert.equal(await vscode.commands.executeCommand('localtune.toggleCompletions'), true);
      const c = vscode.workspace.getConfiguration('localtune.completions');
      await c.update('languages', { '*': true, python: false }, vscode.ConfigurationTarget.Workspace);
      assert.equal((await debugComplete()).reason, 'off for python');
      await c.update('languages', undefined, vscode.ConfigurationTarget.Workspace);
      await waitFor('the worker again', () => api.completions.describe().state === 'ready', 60_000);
      assert.equal((await debugComplete()).items[0]?.insertText, EXPECTED);
    });

    it('the dashboard shows the local statistics: shown, accepted, kept after 30 s', async function () {
      const api = await localtune();
      const s = (await waitFor(
        'the survival check of the accepted completion (30 s after it)',
        () => {
          const x = api.completions.stats.get(modelDir);
          return x && x.checkedChars > 0 ? x : undefined;
        },
        60_000,
      ))!;
      assert.equal(s.accepted, 1);
      assert.equal(s.acceptedChars, EXPECTED.length);
      assert.equal(s.survivedChars, EXPECTED.length, 'the accepted text is untouched');
      assert.ok(s.shown >= 2, JSON.stringify(s));
      await vscode.commands.executeCommand('localtune.toggleCompletions');
      await editor.document.save();
      await vscode.commands.executeCommand('localtune.showDashboard', runDir);
      // The page's Completions section, as drawn: this run's counters.
      const drawn = await waitForText(
        'the dashboard to show the counters',
        '.completions',
        (t) => t.includes(`${TITLE} (this run)`) && /Kept after 30 s\s+\d/.test(t),
      );
      const shownNow = api.completions.stats.get(modelDir)!.shown;
      assert.match(drawn, new RegExp(`Shown\\s+${shownNow}\\s`));
      assert.match(drawn, new RegExp(`Accepted\\s+1 \\(${Math.round(100 / shownNow)}%\\)`));
      assert.match(drawn, new RegExp(`Accepted characters\\s+${EXPECTED.length}`));
      assert.match(drawn, new RegExp(`Kept after 30 s\\s+100% of ${EXPECTED.length}`));
      await screenshot('completions-dashboard-stats');
    });

    it('after `return ` and at the start of a line: ghost text with no doubled space, accepted as one line', async function () {
      const api = await localtune();
      // (the test before turns completions off at its end)
      if (!vscode.workspace.getConfiguration('localtune.completions').get<boolean>('enabled'))
        assert.equal(await vscode.commands.executeCommand('localtune.toggleCompletions'), true);
      await waitFor('the worker again', () => api.completions.describe().state === 'ready', 60_000);
      editor = await vscode.window.showTextDocument(vscode.Uri.file(file));
      await newLastLine(editor);

      // The prompt ends in a space; the model's next token begins with one (token healing).
      const prompt = 'def add_31(a, b): return ';
      await typeText(prompt);
      const lineNumber = editor.selection.active.line;
      const o = await debugCompleteSettled();
      // The answer starts with `a + b`, not ` a + b`; what this 20-step model writes after it
      // (a newline, or `): return a + b` on another CPU) is its own.
      const oneLine = /^a \+ b[^\n]*$/;
      assert.match(o.items[0]?.insertText ?? '', oneLine, JSON.stringify(o));
      let before = await shown();
      await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
      await waitFor('the ghost text after the space', async () => (await shown()) > before, 10_000);
      // Tab inserts what the editor drew, with one space. The drawn text is the truth here: its
      // request reuses the prompt cache, and a near tie in a 20-step model may break the other way.
      const drawn = await waitForGhost(oneLine);
      await screenshot('completions-after-space');
      await vscode.commands.executeCommand('editor.action.inlineSuggest.commit');
      await waitForLine(editor, lineNumber, prompt + drawn, 'Tab to insert it with one space');

      // The start of a new line: the prompt ends in a newline token, the suggestion is a whole line.
      await newLastLine(editor);
      const next = editor.selection.active.line;
      assert.equal(editor.document.lineAt(next).text, '');
      const s = await debugCompleteSettled();
      // What this small model writes is its own; the line starts with it, not with a space.
      assert.match(s.items[0]?.insertText ?? '', /^def add_/, JSON.stringify(s));
      before = await shown();
      await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
      await waitFor('the ghost text at the start of the line', async () => (await shown()) > before, 10_000);
      const line = await waitForGhost(/^def add_/);
      await screenshot('completions-start-of-line');
      await vscode.commands.executeCommand('editor.action.inlineSuggest.commit');
      await waitForLine(editor, next, line, 'Tab to insert the line as drawn');
      await editor.document.save();
    });
  });
