/// <reference types="mocha" />
// The Datasets view in a real VS Code follows the files: skipped files listed by name with their
// reason (a key file with Include Anyway, a lockfile, a duplicate naming the copy kept), the source
// row's "N skipped" true to the list, a deleted file marks the dataset out of date (the file
// watcher) and leaves the tree on the rebuild, an excluded file moves under Skipped, options live
// in dataset.json and survive Rebuild and Build from Workspace, and a dataset built for another
// tokenizer offers "Rebuild for MODEL" and cannot start a run. The suite removes its dataset and
// files at the end, so the suites after it start from a workspace without one.
import * as assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { DatasetConfig } from '../../../src/data/datasetConfig';
import type { DatasetManifest } from '../../../src/data/manifest';
import type { LocalTuneApi } from '../../../src/vscode/extension';
import type { DatasetNode } from '../../../src/vscode/trees/datasetsTree';
import { screenshot, waitFor } from './helpers';
import { afterReload, localtune } from './localtuneHelpers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The Datasets view focused, the side bar widened (the rows' descriptions readable). */
async function showDatasets(): Promise<void> {
  await vscode.commands.executeCommand('localtune.datasets.focus');
  for (let i = 0; i < 4; i++) await vscode.commands.executeCommand('workbench.action.increaseViewSize');
  await sleep(1000);
}
const DUPLICATE = 'export function sameTwice(x: number): number {\n  return x * 2 + 1;\n}\n';

if (!afterReload())
  describe('LocalTune datasets view', function () {
    const ws = () => process.env.LOCALTUNE_E2E_WORKSPACE ?? vscode.workspace.workspaceFolders![0].uri.fsPath;
    const added = [
      'src/dup_a.ts',
      'src/dup_b.ts',
      'src/to_delete.ts',
      'src/to_exclude.ts',
      '.env',
      'yarn.lock',
    ];
    let dir = '';
    const otherModel = join(tmpdir(), `lt-e2e-other-model-${process.pid}`);

    const manifest = () => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as DatasetManifest;
    const config = () => JSON.parse(readFileSync(join(dir, 'dataset.json'), 'utf8')) as DatasetConfig;
    const rows = (api: LocalTuneApi) => {
      const dataset = api.datasets.getChildren().find((n) => n.kind === 'dataset' && n.dir === dir)!;
      const children = api.datasets.getChildren(dataset);
      const source = children.find((n) => n.kind === 'source')!;
      const underSource = api.datasets.getChildren(source);
      const skippedGroup = underSource.find((n) => n.kind === 'skipped');
      const skipped = skippedGroup ? api.datasets.getChildren(skippedGroup) : [];
      const fileRows = (ns: DatasetNode[]) => ns.flatMap((n) => (n.kind === 'file' ? [n] : []));
      return {
        dataset,
        actions: children.flatMap((n) => (n.kind === 'action' ? [n] : [])),
        source,
        kept: fileRows(underSource),
        skipped: fileRows(skipped),
      };
    };
    const label = (api: LocalTuneApi, n: DatasetNode) => api.datasets.getTreeItem(n);

    // The workspace's own default model (the offline demo model): restored after the suite.
    let workspaceModel: string | undefined;

    before(async function () {
      workspaceModel = vscode.workspace
        .getConfiguration('localtune')
        .inspect<string>('defaultModel')?.workspaceValue;
      const root = ws();
      writeFileSync(join(root, 'src/dup_a.ts'), DUPLICATE);
      writeFileSync(join(root, 'src/dup_b.ts'), DUPLICATE);
      writeFileSync(join(root, 'src/to_delete.ts'), 'export const goesAway = "soon";\n');
      writeFileSync(join(root, 'src/to_exclude.ts'), 'export const leftOut = "by the user";\n');
      writeFileSync(join(root, '.env'), 'SHOP_MODE=demo\n');
      writeFileSync(join(root, 'yarn.lock'), '# yarn lockfile v1\n');
    });

    after(async function () {
      const c = vscode.workspace.getConfiguration('localtune');
      await c.update('defaultModel', workspaceModel, vscode.ConfigurationTarget.Workspace);
      for (const f of added) rmSync(join(ws(), f), { force: true });
      if (dir) rmSync(dir, { recursive: true, force: true });
      rmSync(otherModel, { recursive: true, force: true });
      (await localtune()).datasets.refresh();
    });

    it('Build from workspace: skipped files by name with their reason, one copy of a duplicate kept', async function () {
      this.timeout(240_000);
      const api = await localtune();
      dir = (await vscode.commands.executeCommand<string | undefined>('localtune.buildDataset')) ?? '';
      assert.ok(dir && existsSync(join(dir, 'manifest.json')), `dataset built: ${dir}`);
      const r = rows(api);
      const reason = (id: string) => {
        const row = r.skipped.find((n) => n.file.id === id);
        return row && String(label(api, row).description);
      };
      assert.equal(reason('.env'), 'key or credential file');
      assert.equal(
        label(
          api,
          r.skipped.find((n) => n.file.id === '.env')!,
        ).contextValue,
        'localtune.file.credential',
      );
      assert.equal(reason('yarn.lock'), 'lockfile');
      assert.equal(reason('src/dup_b.ts'), 'duplicate of src/dup_a.ts');
      assert.ok(
        r.kept.some((n) => n.file.id === 'src/dup_a.ts'),
        'the first copy is kept',
      );
      assert.ok(!r.kept.some((n) => n.file.id === 'src/dup_b.ts'), 'the copy is not listed as kept');
      // The source row's count is the list's.
      assert.match(String(label(api, r.source).description), new RegExp(`· ${r.skipped.length} skipped$`));
      const m = manifest();
      assert.equal(r.kept.length, m.files.train + m.files.validation);
      assert.equal(
        r.kept.reduce((n, f) => n + f.file.tokens, 0),
        m.tokens.train + m.tokens.validation,
      );
      assert.deepEqual(config().exclude, ['.localtune/']);
      await showDatasets();
      await screenshot('datasets-skipped-files');
    });

    it('a deleted file marks the dataset out of date; the rebuild drops it, an excluded file moves under Skipped', async function () {
      this.timeout(240_000);
      const api = await localtune();
      rmSync(join(ws(), 'src/to_delete.ts'));
      const mark = await waitFor(
        'the out-of-date mark',
        () => rows(api).actions.find((a) => a.kind === 'action' && a.action === 'outOfDate'),
        20_000,
      );
      assert.match(String(label(api, mark!).label), /^Out of date: 1 removed/);
      assert.match(String(label(api, rows(api).dataset).description), /^out of date/);
      await showDatasets();
      await screenshot('datasets-out-of-date');

      const target = rows(api).kept.find((n) => n.file.id === 'src/to_exclude.ts')!;
      assert.ok(target, 'to_exclude.ts is kept before');
      await vscode.commands.executeCommand('localtune.excludeFile', target);
      const r = rows(api);
      assert.ok(!r.kept.some((n) => n.file.id === 'src/to_delete.ts'), 'the deleted file left the tree');
      assert.ok(!r.skipped.some((n) => n.file.id === 'src/to_delete.ts'));
      assert.ok(!r.kept.some((n) => n.file.id === 'src/to_exclude.ts'), 'the excluded file is not kept');
      assert.equal(
        String(
          label(
            api,
            r.skipped.find((n) => n.file.id === 'src/to_exclude.ts')!,
          ).description,
        ),
        'excluded',
      );
      assert.equal(r.actions.length, 0, 'current again');
      assert.deepEqual(config().exclude, ['.localtune/', '/src/to_exclude.ts']);
      await showDatasets();
      await screenshot('datasets-after-delete-and-exclude');
    });

    it('Include Anyway reads a key file; options edited in dataset.json survive Build from Workspace', async function () {
      this.timeout(300_000);
      const api = await localtune();
      const env = rows(api).skipped.find((n) => n.file.id === '.env')!;
      await vscode.commands.executeCommand('localtune.includeAnyway', env);
      assert.ok(
        rows(api).kept.some((n) => n.file.id === '.env' && n.file.tokens > 0),
        '.env is read now',
      );
      await vscode.commands.executeCommand('localtune.editDatasetOptions', dir, {
        valFraction: 0.3,
        fimRate: 0.2,
      });
      assert.equal(manifest().split.valFraction, 0.3);
      assert.equal(manifest().fim.rate, 0.2);
      // Build from Workspace again: the dataset has options of its own, so it asks; the answer
      // "rebuild" is given ahead (the quick pick itself is not driven here).
      const building = vscode.commands.executeCommand<string | undefined>('localtune.buildDataset', {
        existing: 'rebuild',
      });
      assert.equal(await building, dir);
      const c = config();
      assert.deepEqual(c.exclude, ['.localtune/', '/src/to_exclude.ts'], 'exclusions kept');
      assert.deepEqual(c.include, ['/.env']);
      assert.equal(c.valFraction, 0.3);
      assert.equal(manifest().split.valFraction, 0.3);
    });

    it('a dataset built for another tokenizer offers Rebuild for MODEL and cannot start a run', async function () {
      this.timeout(300_000);
      const api = await localtune();
      // Another model: the e2e model with one more token in its tokenizer (another tokenizer.json).
      cpSync(process.env.LOCALTUNE_E2E_MODEL!, otherModel, { recursive: true });
      const tokFile = join(otherModel, 'tokenizer.json');
      const tok = JSON.parse(readFileSync(tokFile, 'utf8')) as { added_tokens: { id: number }[] };
      const top = Math.max(...tok.added_tokens.map((t) => t.id));
      tok.added_tokens.push({
        id: top + 1,
        content: '<|e2e-other|>',
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      } as { id: number });
      writeFileSync(tokFile, JSON.stringify(tok));
      await vscode.workspace
        .getConfiguration('localtune')
        .update('defaultModel', otherModel, vscode.ConfigurationTarget.Workspace);
      const offer = await waitFor(
        'the Rebuild for MODEL row',
        () => rows(api).actions.find((a) => a.kind === 'action' && a.action === 'rebuildForModel'),
        20_000,
      );
      const name = otherModel.split('/').pop()!;
      assert.equal(String(label(api, offer!).label), `Rebuild for ${name}`);
      assert.match(String(label(api, rows(api).dataset).description), /built for another model/);
      await showDatasets();
      await screenshot('datasets-rebuild-for-model');

      const started = await vscode.commands.executeCommand<string | undefined>('localtune.startFineTuning', {
        model: otherModel,
        dataset: dir,
        preset: 'lora',
        steps: 2,
      });
      assert.equal(started, undefined, 'the run is refused');
      assert.equal(api.training.activeRun, undefined);

      await vscode.commands.executeCommand('localtune.rebuildDatasetForModel', dir);
      assert.equal(manifest().tokenizer.modelPath, otherModel);
      assert.equal(rows(api).actions.length, 0, 'built for the default model now');
      assert.deepEqual(config().exclude, ['.localtune/', '/src/to_exclude.ts'], 'its options kept');
    });
  });
