/**
 * The Runs view: each run in `.localtune/runs/` with its status (running / stopped / finished /
 * failed), step, best validation loss and checkpoints. Context values drive the inline actions
 * (open dashboard, stop, resume, export, use for completions, delete) in package.json.
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { runVerdict, verdictLabel } from '../../jobs/runEvaluation';
import { listRuns, summarizeRun, type RunSummary } from '../../jobs/runs';
import { formatLoss } from '../format';

export type RunNode =
  { kind: 'run'; run: RunSummary } | { kind: 'checkpoint'; run: RunSummary; dir: string; step: number };

const STATUS_ICON: Record<RunSummary['status'], vscode.ThemeIcon> = {
  running: new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue')),
  stopped: new vscode.ThemeIcon('debug-pause', new vscode.ThemeColor('charts.yellow')),
  finished: new vscode.ThemeIcon('pass', new vscode.ThemeColor('charts.green')),
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('charts.red')),
};

export class RunsTree implements vscode.TreeDataProvider<RunNode> {
  private readonly changed = new vscode.EventEmitter<RunNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(
    private readonly workspace: () => string | undefined,
    /** The run used for completions (its folder), to mark it. */
    private readonly completionRun: () => string | undefined,
  ) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  runs(): RunSummary[] {
    const ws = this.workspace();
    return ws ? listRuns(ws) : [];
  }

  getChildren(node?: RunNode): RunNode[] {
    if (!node) return this.runs().map((run) => ({ kind: 'run', run }));
    if (node.kind === 'run')
      return [...node.run.checkpoints]
        .reverse()
        .map((c) => ({ kind: 'checkpoint', run: node.run, dir: c.dir, step: c.step }));
    return [];
  }

  getTreeItem(node: RunNode): vscode.TreeItem {
    if (node.kind === 'checkpoint') {
      const item = new vscode.TreeItem(`step ${node.step}`, vscode.TreeItemCollapsibleState.None);
      item.description = 'checkpoint';
      item.tooltip = node.dir;
      item.iconPath = new vscode.ThemeIcon('save');
      item.contextValue = 'localtune.checkpoint';
      return item;
    }
    const r = summarizeRun(node.run.runDir); // fresh: a running run changes between refreshes
    const title = r.record?.title ?? r.id;
    const item = new vscode.TreeItem(
      title,
      r.checkpoints.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
    );
    item.id = `run:${r.runDir}`;
    const steps = r.totalSteps ? `${r.step}/${r.totalSteps}` : String(r.step);
    const inUse = this.completionRun() === r.runDir;
    const verdict = r.status === 'finished' || r.status === 'stopped' ? runVerdict(r.runDir) : null;
    item.description = [
      r.status,
      verdict ? verdictLabel(verdict) : '',
      `step ${steps}`,
      `best val ${formatLoss(r.bestEvalLoss)}`,
      inUse ? 'completions' : '',
    ]
      .filter(Boolean)
      .join(' · ');
    const spec = r.record?.spec;
    item.tooltip = new vscode.MarkdownString(
      [
        `**${title}** — ${r.status}${r.record?.error ? `: ${r.record.error.message}` : ''}`,
        `- step ${steps}, last loss ${formatLoss(r.lastLoss)}, best validation loss ${formatLoss(r.bestEvalLoss)}`,
        spec
          ? `- ${spec.mode === 'lora' ? 'LoRA' : 'full'} on ${basename(spec.modelDir)}, data ${spec.data.map((d) => basename(d)).join(', ')}`
          : '',
        verdict ? `- against the base model on held-out files: **${verdictLabel(verdict)}**` : '',
        `- ${r.checkpoints.length} checkpoint(s)${r.resumable ? ' — resumable' : ''}`,
        `- ${r.runDir}`,
      ]
        .filter(Boolean)
        .join('\n'),
    );
    item.iconPath =
      verdict === 'worse'
        ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'))
        : STATUS_ICON[r.status];
    // e.g. "localtune.run.stopped.resumable.exportable": only what can work on the run's state —
    // a failed run has nothing to export, evaluate or serve (package.json menus read these).
    const trained = (r.status === 'finished' || r.status === 'stopped') && r.checkpoints.length > 0;
    item.contextValue = [
      'localtune.run',
      r.status,
      r.resumable ? 'resumable' : '',
      trained || (r.status === 'finished' && r.record?.finalDir) ? 'exportable' : '',
      verdict === 'worse' ? 'worse' : '',
    ]
      .filter(Boolean)
      .join('.');
    item.command = {
      command: 'localtune.showDashboard',
      title: 'Show training dashboard',
      arguments: [node],
    };
    return item;
  }
}
