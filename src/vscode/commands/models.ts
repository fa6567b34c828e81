/** The Models view and its commands: add a model (a folder, or a hub id), remove one, make one the default. */
import { isAbsolute } from 'node:path';
import * as vscode from 'vscode';
import { checkModelFolder } from '../../engine/models/check';
import { isLocalFolder, isModelDir } from '../modelCatalog';
import { settings } from '../settings';
import type { ModelNode } from '../trees/modelsTree';
import { command, type CommandDeps } from './common';
import { modelFolder } from './modelFolder';

export function registerModels(d: CommandDeps): vscode.Disposable[] {
  const { log } = d;
  return [
    vscode.window.registerTreeDataProvider('localtune.models', d.models),
    // preset: a hub id, or a model folder (both skip the quick pick).
    command(log, 'localtune.addModel', async (preset?: string) => {
      const value =
        typeof preset === 'string'
          ? preset
          : (
              await vscode.window.showQuickPick(
                [
                  { label: '$(folder) Model folder on this machine…', value: '' },
                  { label: '$(cloud-download) Hugging Face hub id…', value: 'hub' },
                ],
                { title: 'Add model' },
              )
            )?.value;
      if (value === undefined) return undefined;
      let dir: string | undefined;
      // A folder given ahead (scripts, the e2e tests) is added as the dialog's answer would be.
      if (value === '' || isLocalFolder(value)) {
        dir =
          value ||
          (
            await vscode.window.showOpenDialog({
              canSelectFolders: true,
              canSelectFiles: false,
              openLabel: 'Add model',
            })
          )?.[0]?.fsPath;
        if (dir && !isModelDir(dir))
          throw new Error(`${dir} has no config.json: not a Hugging Face model folder`);
        // Refuse a folder we cannot use now, with the reason, not at its first training step.
        if (dir) checkModelFolder(dir);
        if (dir) {
          const folders = settings().modelFolders;
          if (!folders.includes(dir)) await writeModelFolders([...folders, dir]);
        }
      } else {
        const id =
          value === 'hub'
            ? await vscode.window.showInputBox({
                title: 'Hugging Face model id',
                value: 'HuggingFaceTB/SmolLM2-135M',
                prompt: 'org/name[@revision]',
              })
            : value;
        if (id) dir = await modelFolder(d, id);
        if (dir) checkModelFolder(dir);
      }
      d.models.refresh();
      return dir;
    }),
    command(log, 'localtune.removeModel', async (arg?: ModelNode) => {
      if (arg?.kind !== 'model') return;
      await writeModelFolders(settings().modelFolders.filter((f) => f !== arg.entry.dir));
      // A workspace list overrides the user's: the folder goes from both, or it would come back.
      const global = vscode.workspace
        .getConfiguration('localtune')
        .inspect<string[]>('modelFolders')?.globalValue;
      if (global?.includes(arg.entry.dir))
        await vscode.workspace.getConfiguration('localtune').update(
          'modelFolders',
          global.filter((f) => f !== arg.entry.dir),
          vscode.ConfigurationTarget.Global,
        );
      d.models.refresh();
    }),
    command(log, 'localtune.setDefaultModel', async (arg?: ModelNode) => {
      if (arg?.kind !== 'model') return;
      const config = vscode.workspace.getConfiguration('localtune');
      // A local folder that was the default stays listed (a hub model stays as long as it is cached).
      const previous = settings().defaultModel;
      const folders = settings().modelFolders;
      if (isAbsolute(previous) && isModelDir(previous) && !folders.includes(previous))
        await writeModelFolders([...folders, previous]);
      await config.update(
        'defaultModel',
        arg.entry.hubId ?? arg.entry.dir,
        vscode.ConfigurationTarget.Workspace,
      );
      d.models.refresh();
    }),
  ];
}

/**
 * Writes localtune.modelFolders where the list in effect is set (a workspace value overrides the
 * user's), so adding and removing act on what the Models view shows.
 */
async function writeModelFolders(folders: string[]): Promise<void> {
  const config = vscode.workspace.getConfiguration('localtune');
  const inWorkspace = config.inspect<string[]>('modelFolders')?.workspaceValue !== undefined;
  await config.update(
    'modelFolders',
    folders,
    inWorkspace ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global,
  );
}
