/// <reference types="mocha" />
// The Models view and the commands no other suite runs, in a real VS Code: a model folder added,
// made the default and back (the view's items and the rows it draws), a dataset's manifest and
// samples opened, files added to it and the dataset rebuilt, a run started through the quick-pick
// wizard (answered with the keyboard), the log shown, and Refresh redrawing the views. test/e2e/commandsCovered.test.ts checks
// that every contributed command runs in some suite. The suite leaves no dataset, model or setting
// behind, so the suites after it start from the same workspace.
import * as assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import type { DatasetManifest } from '../../../src/data/manifest';
import type { ModelNode } from '../../../src/vscode/trees/modelsTree';
import { domTexts, pressKey, screenshot, waitFor, waitForText } from './helpers';
import { afterReload, localtune } from './localtuneHelpers';

const rowText = (what: string, match: (t: string) => boolean) => waitForText(what, '.monaco-list-row', match);

if (!afterReload())
  describe('LocalTune commands and the Models view', function () {
    const model = process.env.LOCALTUNE_E2E_MODEL!;
    const scratch = mkdtempSync(join(tmpdir(), 'lt-e2e-commands-'));
    const other = join(scratch, 'other-model');
    let workspaceModel: string | undefined;
    let datasetDir = '';

    const modelNodes = async () => {
      const api = await localtune();
      return api.models.getChildren().flatMap((n) => (n.kind === 'model' ? [n] : []));
    };
    const describeModel = async (n: ModelNode) =>
      String((await localtune()).models.getTreeItem(n).description);
    const find = async (dir: string) => (await modelNodes()).find((n) => n.entry.dir === dir);

    before(async function () {
      workspaceModel = vscode.workspace
        .getConfiguration('localtune')
        .inspect<string>('defaultModel')?.workspaceValue;
      cpSync(model, other, { recursive: true });
    });

    after(async function () {
      const c = vscode.workspace.getConfiguration('localtune');
      await c.update('defaultModel', workspaceModel, vscode.ConfigurationTarget.Workspace);
      await c.update('modelFolders', undefined, vscode.ConfigurationTarget.Workspace);
      await c.update('modelFolders', undefined, vscode.ConfigurationTarget.Global);
      if (datasetDir) rmSync(datasetDir, { recursive: true, force: true });
      rmSync(scratch, { recursive: true, force: true });
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.commands.executeCommand('workbench.action.closePanel'); // Show Log opened it
      (await localtune()).models.refresh();
      (await localtune()).datasets.refresh();
    });

    it('Models view: Add model lists a folder, Remove takes it out, Set as Default makes it the default', async function () {
      this.timeout(120_000);
      const api = await localtune();
      // The workspace's default (a local folder) first, with the notice saying so.
      const [notice] = api.models.getChildren();
      assert.equal(notice.kind, 'notice');
      assert.equal(
        String(api.models.getTreeItem(notice).label),
        `Default model: local folder ${basename(model)}`,
      );
      assert.match(await describeModel((await find(model))!), /^default · /);

      assert.equal(await vscode.commands.executeCommand('localtune.addModel', other), other);
      const added = (await find(other))!;
      assert.ok(added, 'the added folder is listed');
      assert.equal(added.removable, true);
      assert.doesNotMatch(await describeModel(added), /default/);
      assert.equal(api.models.getTreeItem(added).contextValue, 'localtune.model.removable');
      await vscode.commands.executeCommand('localtune.models.focus');
      await rowText('the Models view to draw the added folder', (t) => t.includes(basename(other)));
      await screenshot('models-view-added');

      await vscode.commands.executeCommand('localtune.removeModel', added);
      assert.equal(await find(other), undefined, 'removed from the view');
      await waitFor('the Models view to drop the row', async () => {
        const rows = await domTexts('.monaco-list-row');
        return !rows.some((t) => t.includes(basename(other)));
      });

      await vscode.commands.executeCommand('localtune.addModel', other);
      await vscode.commands.executeCommand('localtune.setDefaultModel', await find(other));
      assert.equal(vscode.workspace.getConfiguration('localtune').get('defaultModel'), other);
      assert.match(await describeModel((await find(other))!), /^default · /);
      const previous = (await find(model))!;
      assert.ok(previous, 'the previous default (a local folder) stays listed');
      assert.doesNotMatch(await describeModel(previous), /default/);
      await rowText(
        'the Models view to draw the new default',
        (t) => t.includes(basename(other)) && /default/.test(t),
      );
      await screenshot('models-view-new-default');

      await vscode.commands.executeCommand('localtune.setDefaultModel', previous);
      assert.equal(vscode.workspace.getConfiguration('localtune').get('defaultModel'), model);
      // Remove acts on the list in effect, wherever Set as Default wrote it.
      await vscode.commands.executeCommand('localtune.removeModel', await find(other));
      assert.equal(await find(other), undefined, 'removed after Set as Default');
    });

    it('a dataset: Open Manifest, Preview Samples, Add Files to Dataset, Rebuild', async function () {
      this.timeout(300_000);
      const api = await localtune();
      datasetDir = (await vscode.commands.executeCommand<string>('localtune.buildDataset'))!;
      assert.ok(datasetDir && existsSync(join(datasetDir, 'manifest.json')), `built ${datasetDir}`);
      const manifest = () =>
        JSON.parse(readFileSync(join(datasetDir, 'manifest.json'), 'utf8')) as DatasetManifest;

      await vscode.commands.executeCommand('localtune.openManifest', datasetDir);
      assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, join(datasetDir, 'manifest.json'));

      await vscode.commands.executeCommand('localtune.previewSamples', datasetDir);
      const preview = vscode.window.activeTextEditor!.document;
      assert.equal(preview.languageId, 'markdown');
      assert.match(preview.getText(), /^--- sample 1: \d+ tokens, \d+ with loss$/m);
      await screenshot('dataset-preview-samples');

      // A file from outside the workspace joins as a source of its own.
      const extra = join(scratch, 'extra-notes.txt');
      writeFileSync(extra, 'Notes kept outside the project.\n'.repeat(40));
      const before = manifest().sources.length;
      assert.equal(
        await vscode.commands.executeCommand('localtune.addFilesToDataset', vscode.Uri.file(extra)),
        datasetDir,
      );
      const sources = manifest().sources;
      assert.equal(sources.length, before + 1);
      assert.ok(
        sources.some((s) => s.path === extra && s.documents > 0),
        JSON.stringify(sources),
      );
      const dataset = api.datasets.getChildren().find((n) => n.kind === 'dataset' && n.dir === datasetDir)!;
      assert.equal(
        api.datasets.getChildren(dataset).filter((n) => n.kind === 'source').length,
        before + 1,
        'a source row for the added file',
      );

      const built = manifest().createdAt;
      await new Promise((r) => setTimeout(r, 1100)); // createdAt has a resolution of a second or finer
      assert.equal(await vscode.commands.executeCommand('localtune.rebuildDataset', datasetDir), datasetDir);
      assert.notEqual(manifest().createdAt, built, 'built again');
      assert.equal(manifest().sources.length, before + 1, 'the added file stays a source');
    });

    it('Start Fine-tuning (quick): its three quick picks, answered with Enter, start a run', async function () {
      this.timeout(180_000);
      const api = await localtune();
      const started = vscode.commands.executeCommand<string | undefined>('localtune.startFineTuningQuick');
      // Enter takes each pick's first item: the default model, this workspace's dataset, LoRA.
      for (const [title, first] of [
        ['Fine-tune: base model (1/3)', basename(model)],
        ['Fine-tune: dataset (2/3)', basename(datasetDir)],
        ['Fine-tune: preset (3/3)', 'LoRA'],
      ]) {
        const widget = await waitForText(`the quick pick ${title}`, '.quick-input-widget', (t) =>
          t.includes(title),
        );
        assert.ok(widget.includes(first), `${title} offers ${first}: ${widget.slice(0, 300)}`);
        if (title.endsWith('(1/3)')) await screenshot('quick-start-model-pick');
        await pressKey('Enter'); // the next pick's title, or the started run, shows it was taken
      }
      const runDir = await started;
      assert.ok(runDir && existsSync(runDir), `a run started: ${runDir}`);
      const record = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as {
        spec: { modelDir: string; data: string[]; mode: string };
      };
      assert.equal(record.spec.modelDir, model);
      assert.deepEqual(record.spec.data, [datasetDir]);
      assert.equal(record.spec.mode, 'lora');
      assert.equal(api.training.activeRun, runDir);
      await vscode.commands.executeCommand('localtune.stop', runDir);
      assert.equal(await vscode.commands.executeCommand('localtune.deleteRun', runDir, true), true);
    });

    it('Show Log shows the log; Refresh redraws the views', async function () {
      this.timeout(120_000);
      // The rebuild's lines are the log's newest, so they are on the panel's screen (the view draws
      // only the lines in sight; earlier runs may have written pages since this suite's build).
      await vscode.commands.executeCommand('localtune.rebuildDataset', datasetDir);
      await vscode.commands.executeCommand('localtune.showLog');
      // The panel shows the LocalTune log: the lines this suite's dataset build wrote (long lines
      // wrap in the view: the wraps are taken out).
      await waitForText('the LocalTune log in the panel', '.part.panel .view-lines', (t) =>
        t.replace(/\n/g, '').includes(`[info] building dataset ${datasetDir} from`),
      );
      await screenshot('show-log');

      // The dataset's folder removed behind the extension's back: Refresh redraws the Datasets view.
      await vscode.commands.executeCommand('localtune.datasets.focus');
      // The dataset's row: its name and its token counts ("… train · … val").
      const row = (t: string) => t.includes(basename(datasetDir)) && / train/.test(t);
      await rowText('the Datasets view to show the dataset', row);
      rmSync(datasetDir, { recursive: true, force: true });
      await vscode.commands.executeCommand('localtune.refresh');
      await waitFor(
        'the Datasets view to drop the dataset',
        async () => !(await domTexts('.monaco-list-row')).some(row),
      );
      datasetDir = '';
    });
  });
