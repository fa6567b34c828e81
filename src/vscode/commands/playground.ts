/**
 * The Playground and the editor's chat: "Open in Playground" on a run, a checkpoint or a model (Runs
 * and Models views, the dashboard's button, the palette), the Playground's commands that scripts
 * and tests drive (ask, stop, save, open, state), and the Language Model chat provider.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { hubCacheDir } from '../../engine/hub/hub';
import { RUN_FILE } from '../../jobs/runs';
import { ChatService } from '../chat/chatService';
import { LM_VENDOR, LocalTuneChatProvider } from '../chat/lmProvider';
import { DashboardPanel } from '../dashboard/dashboardPanel';
import { cachedHubModel } from '../modelCatalog';
import { listConversations } from '../playground/conversations';
import { folderPlaygroundModels, runPlaygroundModels } from '../playground/playgroundModels';
import { PlaygroundPanel, type PlaygroundModels } from '../playground/playgroundPanel';
import type { ModelNode } from '../trees/modelsTree';
import type { RunNode } from '../trees/runsTree';
import { command, guarded, workspaceRoot, type CommandDeps } from './common';
import { hasWeights, pickWeights } from './runPick';

export function registerPlayground(d: CommandDeps): vscode.Disposable[] {
  const { context, log } = d;
  const service = new ChatService({
    workerPath: context.asAbsolutePath(join('dist', 'worker', 'chat.js')),
    log,
    state: context.workspaceState,
  });
  const ownCache = join(context.globalStorageUri.fsPath, 'hub');
  const findBase = async (id: string) =>
    (await cachedHubModel(id, hubCacheDir())) ?? cachedHubModel(id, ownCache);
  const show = (models: PlaygroundModels) =>
    PlaygroundPanel.open({ extensionUri: context.extensionUri, service, workspace: workspaceRoot }, models);

  /** The models for what the command was given, asking where there is a choice. */
  const modelsFor = async (arg: unknown): Promise<PlaygroundModels | { error: string } | undefined> => {
    const model = arg as ModelNode | undefined;
    if (model?.kind === 'model')
      return {
        title: model.entry.label,
        base: { label: model.entry.label, source: { modelDir: model.entry.dir } },
      };
    const node = arg as RunNode | undefined;
    const runDir = typeof arg === 'string' ? arg : node?.run?.runDir;
    // A string is a run folder (it has run.json), else any model, adapter or export folder.
    if (runDir && typeof arg === 'string' && !existsSync(join(runDir, RUN_FILE)))
      return folderPlaygroundModels(runDir, findBase);
    if (runDir) {
      const weights = await pickWeights(runDir, arg, 'open in the Playground');
      return weights && runPlaygroundModels(runDir, weights, findBase);
    }
    // The palette: a run with weights, or a folder (a model, an adapter, an export).
    const runs = d.runs.runs().filter(hasWeights);
    const pick = await vscode.window.showQuickPick(
      [
        ...runs.map((r) => ({
          label: r.record?.title ?? r.id,
          description: `${r.status} · step ${r.step}`,
          runDir: r.runDir,
        })),
        {
          label: '$(folder) Choose a folder…',
          description: 'a model, a run’s adapter or an export',
          runDir: '',
        },
      ],
      { title: 'LocalTune: which model to open in the Playground?' },
    );
    if (!pick) return undefined;
    if (pick.runDir) return modelsFor(pick.runDir);
    const folder = (
      await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        openLabel: 'Open in Playground',
      })
    )?.[0];
    return folder && folderPlaygroundModels(folder.fsPath, findBase);
  };

  const openPlayground = guarded(log, 'localtune.openPlayground', async (arg?: unknown) => {
    const models = await modelsFor(arg);
    if (!models) return undefined;
    if ('error' in models) throw new Error(models.error);
    show(models);
    return true;
  });
  const latest = () => {
    const p = PlaygroundPanel.latest;
    if (!p) throw new Error('open the Playground first (Open in Playground on a run or a model)');
    return p;
  };

  const provider = new LocalTuneChatProvider(service, d.runs, findBase);
  DashboardPanel.setMaskedOutputs(service.maskedTotal);
  return [
    service,
    provider,
    service.onDidMask((total) => DashboardPanel.setMaskedOutputs(total)),
    vscode.lm.registerLanguageModelChatProvider(LM_VENDOR, provider),
    vscode.commands.registerCommand('localtune.openPlayground', openPlayground),
    DashboardPanel.handle({ playground: (runDir: string) => openPlayground(runDir) }),
    command(log, 'localtune.playground.ask', (text: string) => latest().ask(text)),
    command(log, 'localtune.playground.stop', () => latest().stop()),
    command(log, 'localtune.playground.clear', () => latest().clear()),
    command(log, 'localtune.playground.save', (name?: string) => latest().save(name)),
    command(log, 'localtune.playground.open', async (file?: string) => {
      const ws = workspaceRoot();
      const chosen =
        file ??
        (
          await vscode.window.showQuickPick(
            (ws ? listConversations(ws) : []).map((f) => ({ label: f.split(/[\\/]/).pop()!, detail: f, f })),
            { title: 'LocalTune: open a saved conversation' },
          )
        )?.f;
      if (chosen) latest().openFile(chosen);
      return chosen;
    }),
    command(log, 'localtune.playground.debugState', () => PlaygroundPanel.latest?.state()),
    // Completions mask their own outputs and report here: one count per workspace.
    command(log, 'localtune.countMaskedOutputs', (n: number) => service.countMasked(n)),
  ];
}
