/**
 * The Datasets view: each dataset in `.localtune/datasets/` → its sources → the files the build
 * kept, and a "Skipped" group of the files it left out by name with the reason (or the file a
 * duplicate copies). All from the manifest's listing, so the view says what the last build did.
 * A dataset whose workspace changed since (files added, removed, edited) is marked out of date — the
 * comparison walks the workspace in a worker thread (datasetChangesScan.ts), so the view draws at
 * once and the mark follows — and one built with another tokenizer than the default model's offers
 * "Rebuild for MODEL".
 * Empty: a welcome view (package.json) offers "Build dataset from workspace".
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { SkipReason } from '../../data/skips';
import { DatasetChangesScan } from '../datasetChangesScan';
import {
  builtForModel,
  hasChanges,
  listDatasetDirs,
  readDatasetInfo,
  type DatasetFile,
  type DatasetInfo,
  type DatasetSource,
  type WorkspaceChanges,
} from '../datasetInfo';
import { formatCount } from '../format';

export type DatasetNode =
  | { kind: 'dataset'; dir: string; info?: DatasetInfo; error?: string }
  /** A row that is an action: rebuild for the default model, or because the workspace changed. */
  | {
      kind: 'action';
      dataset: DatasetInfo;
      action: 'rebuildForModel' | 'outOfDate';
      label: string;
      detail: string;
    }
  | { kind: 'source'; dataset: DatasetInfo; source: DatasetSource }
  | { kind: 'skipped'; dataset: DatasetInfo; source: DatasetSource; files: DatasetFile[] }
  | { kind: 'file'; dataset: DatasetInfo; file: DatasetFile };

/** Skip reasons as the view words them. */
const REASON_TEXT: Partial<Record<SkipReason, string>> = {
  'credential-file': 'key or credential file',
  'invalid-utf8': 'not UTF-8 text',
  'too-large': 'too large',
  'long-lines': 'very long lines',
  'not-included': 'not included',
  'symlink-loop': 'link loop',
  'symlink-outside': 'link out of the workspace',
  'malformed-record': 'malformed record',
};

export function reasonText(file: Pick<DatasetFile, 'skip' | 'duplicateOf'>): string {
  if (file.duplicateOf)
    return `${file.skip === 'near-duplicate' ? 'near-duplicate' : 'duplicate'} of ${file.duplicateOf}`;
  return file.skip ? (REASON_TEXT[file.skip] ?? file.skip) : '';
}

/** Reasons only counted, never listed by name (the user's own .gitignore and include choices). */
const COUNTED_ONLY: SkipReason[] = ['gitignored', 'localtuneignored', 'not-included'];

const NO_CHANGES: WorkspaceChanges = { added: [], removed: [], changed: [] };

export class DatasetsTree implements vscode.TreeDataProvider<DatasetNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<DatasetNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  /** Changes found by the last check, per dataset folder (see checkWorkspace). */
  private readonly changes = new Map<string, WorkspaceChanges>();
  private readonly scanner = new DatasetChangesScan();
  /** The check under way, and whether another was asked for meanwhile (one runs after it). */
  private checking: Promise<void> | undefined;
  private checkAgain = false;
  private modelDir: string | undefined;

  /** The default model's folder when it is on disk (no download), for "Rebuild for MODEL". */
  private defaultModel: () => Promise<string | undefined> = async () => undefined;

  constructor(
    private readonly workspace: () => string | undefined,
    private readonly warn: (message: string) => void = () => {},
  ) {}

  dispose(): void {
    this.scanner.dispose();
    this.changed.dispose();
  }

  /** How to find the default model's folder (the Datasets commands set it: they know the caches). */
  followDefaultModel(find: () => Promise<string | undefined>): void {
    this.defaultModel = find;
    this.refresh();
  }

  refresh(): void {
    this.changes.clear();
    this.changed.fire(undefined);
    // The default model's folder is found off the view's path; the view redraws when it moved.
    void this.defaultModel().then(
      (dir) => {
        if (dir === this.modelDir) return;
        this.modelDir = dir;
        this.changed.fire(undefined);
      },
      () => {},
    );
  }

  /**
   * Compares each dataset with its workspace, in the worker thread (a file watcher calls it; so does
   * the view for a dataset not compared yet); redraws when what the view says changed. Resolves
   * when the comparison asked for is done.
   */
  checkWorkspace(): Promise<void> {
    if (this.checking) {
      this.checkAgain = true;
      return this.checking;
    }
    this.checking = (async () => {
      do {
        this.checkAgain = false;
        const dirs = this.datasets().flatMap((n) => (n.info?.listed ? [n.dir] : []));
        let differs = false;
        for (const [dir, c] of await this.scanner.scan(dirs)) {
          if (JSON.stringify(this.changes.get(dir) ?? NO_CHANGES) !== JSON.stringify(c)) differs = true;
          this.changes.set(dir, c);
        }
        if (differs) this.changed.fire(undefined);
      } while (this.checkAgain);
    })()
      .catch((err: Error) => this.warn(`datasets: comparing with the workspace failed: ${err.message}`))
      .finally(() => (this.checking = undefined));
    return this.checking;
  }

  /** What changed in the dataset's workspace since it was built: none until the worker has compared. */
  changesOf(info: DatasetInfo): WorkspaceChanges {
    const c = this.changes.get(info.dir);
    if (!c && info.listed) void this.checkWorkspace();
    return c ?? NO_CHANGES;
  }

  /** The datasets as the view lists them (also for tests and the Start fine-tuning pick). */
  datasets(): (DatasetNode & { kind: 'dataset' })[] {
    const ws = this.workspace();
    if (!ws) return [];
    return listDatasetDirs(ws).map((dir) => {
      try {
        return { kind: 'dataset', dir, info: readDatasetInfo(dir) };
      } catch (err) {
        return { kind: 'dataset', dir, error: (err as Error).message };
      }
    });
  }

  getChildren(node?: DatasetNode): DatasetNode[] {
    if (!node) return this.datasets();
    if (node.kind === 'dataset') {
      const info = node.info;
      if (!info) return [];
      return [
        ...this.actions(info),
        ...info.sources.map((source) => ({ kind: 'source' as const, dataset: info, source })),
      ];
    }
    if (node.kind === 'source') {
      const kept = node.source.files.filter((f) => !f.skip);
      const skipped = node.source.files.filter((f) => f.skip);
      // The Skipped group first: what was left out is what a user looks for; the kept files follow.
      const rows: DatasetNode[] = skipped.length
        ? [{ kind: 'skipped', dataset: node.dataset, source: node.source, files: skipped }]
        : [];
      return [...rows, ...kept.map((file) => ({ kind: 'file' as const, dataset: node.dataset, file }))];
    }
    if (node.kind === 'skipped')
      return node.files.map((file) => ({ kind: 'file', dataset: node.dataset, file }));
    return [];
  }

  private actions(info: DatasetInfo): DatasetNode[] {
    const rows: DatasetNode[] = [];
    const model = this.modelDir;
    if (model && !builtForModel(info.manifest, model))
      rows.push({
        kind: 'action',
        dataset: info,
        action: 'rebuildForModel',
        label: `Rebuild for ${basename(model)}`,
        detail: `Built with the tokenizer of ${info.manifest.tokenizer.modelPath}; the default model ${model} has another. A run on ${basename(model)} needs the dataset tokenized for it.`,
      });
    const c = this.changesOf(info);
    if (hasChanges(c)) {
      const parts = [
        c.added.length && `${c.added.length} added`,
        c.removed.length && `${c.removed.length} removed`,
        c.changed.length && `${c.changed.length} changed`,
      ].filter(Boolean);
      const names = [
        ...c.added.map((p) => `+ ${p}`),
        ...c.removed.map((p) => `- ${p}`),
        ...c.changed.map((p) => `~ ${p}`),
      ];
      rows.push({
        kind: 'action',
        dataset: info,
        action: 'outOfDate',
        label: `Out of date: ${parts.join(', ')} — Rebuild`,
        detail: `The workspace changed since this dataset was built:\n${names.slice(0, 20).join('\n')}${names.length > 20 ? `\n… ${names.length - 20} more` : ''}`,
      });
    }
    return rows;
  }

  getTreeItem(node: DatasetNode): vscode.TreeItem {
    switch (node.kind) {
      case 'dataset':
        return datasetItem(node, node.info ? this.actions(node.info) : []);
      case 'action':
        return actionItem(node);
      case 'source':
        return sourceItem(node);
      case 'skipped': {
        const item = new vscode.TreeItem('Skipped', vscode.TreeItemCollapsibleState.Expanded);
        item.description = `${node.files.length} files`;
        item.tooltip = 'Files and folders this build left out, each with the reason';
        item.iconPath = new vscode.ThemeIcon('circle-slash');
        item.contextValue = 'localtune.skipped';
        item.id = `skipped:${node.dataset.dir}:${node.source.path}`;
        return item;
      }
      case 'file':
        return fileItem(node);
    }
  }
}

function actionItem(node: DatasetNode & { kind: 'action' }): vscode.TreeItem {
  const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
  item.tooltip = node.detail;
  item.iconPath = new vscode.ThemeIcon(
    node.action === 'outOfDate' ? 'warning' : 'sync',
    new vscode.ThemeColor('list.warningForeground'),
  );
  item.contextValue = `localtune.action.${node.action}`;
  item.id = `action:${node.action}:${node.dataset.dir}`;
  item.command =
    node.action === 'outOfDate'
      ? { command: 'localtune.rebuildDataset', title: 'Rebuild', arguments: [node.dataset.dir] }
      : { command: 'localtune.rebuildDatasetForModel', title: node.label, arguments: [node.dataset.dir] };
  return item;
}

function sourceItem(node: DatasetNode & { kind: 'source' }): vscode.TreeItem {
  const s = node.source;
  // A workspace folder reads as its name; files as their path in the workspace.
  const rel = vscode.workspace.asRelativePath(s.path, false);
  const item = new vscode.TreeItem(
    rel === s.path ? basename(s.path) : rel,
    vscode.TreeItemCollapsibleState.Expanded,
  );
  item.id = `source:${node.dataset.dir}:${s.path}`;
  const used = s.files.filter((f) => !f.skip).length;
  const skipped = s.files.length - used;
  const m = node.dataset.manifest;
  const countedOnly = COUNTED_ONLY.map((r) => [r, m.skipped[r] ?? 0] as const).filter(([, n]) => n > 0);
  item.description = node.dataset.listed
    ? `${s.documents} documents · ${used} files · ${skipped} skipped`
    : `${s.documents} documents · rebuild to list its files`;
  item.tooltip = [
    `${s.kind} source ${s.path}`,
    node.dataset.listed
      ? `${s.documents} documents from ${used} files; ${skipped} files or folders skipped (listed under Skipped)`
      : `${s.documents} documents; built before datasets listed their files: rebuild to see them`,
    ...(countedOnly.length
      ? [`Also left out, counted only: ${countedOnly.map(([r, n]) => `${n} ${r}`).join(', ')}`]
      : []),
  ].join('\n');
  item.iconPath = new vscode.ThemeIcon(s.kind === 'workspace' ? 'root-folder' : 'file');
  item.contextValue = 'localtune.source';
  return item;
}

function fileItem(node: DatasetNode & { kind: 'file' }): vscode.TreeItem {
  const f = node.file;
  const item = new vscode.TreeItem(f.id, vscode.TreeItemCollapsibleState.None);
  item.id = `file:${node.dataset.dir}:${f.id}`;
  const findings = Object.entries(f.findings ?? {});
  const secrets = findings.reduce((n, [, c]) => n + (c ?? 0), 0);
  const parts: string[] = [];
  if (f.skip) parts.push(reasonText(f));
  else parts.push(`${formatCount(f.tokens)} tokens`, f.split === 'validation' ? 'held out' : 'train');
  if (secrets) parts.push(`${secrets} secret${secrets === 1 ? '' : 's'} scrubbed`);
  item.description = parts.join(' · ');
  const lines = [f.path];
  if (f.skip) lines.push(`Left out: ${reasonText(f)}`);
  else
    lines.push(
      `${f.documents} document(s), ${f.tokens} tokens, in ${f.split === 'validation' ? 'the held-out set' : 'training'}`,
    );
  if (secrets) lines.push(`Replaced by placeholders: ${findings.map(([k, n]) => `${n} ${k}`).join(', ')}`);
  if (f.skip === 'credential-file')
    lines.push('Never read: its name says key or credential. "Include anyway" reads it (and scrubs it).');
  item.tooltip = lines.join('\n');
  item.iconPath = new vscode.ThemeIcon(
    f.duplicateOf
      ? 'copy'
      : f.skip === 'credential-file'
        ? 'key'
        : f.skip
          ? 'circle-slash'
          : secrets
            ? 'shield'
            : 'file-code',
  );
  if (!f.folder) {
    item.resourceUri = vscode.Uri.file(f.path);
    item.command = { command: 'vscode.open', title: 'Open', arguments: [vscode.Uri.file(f.path)] };
  }
  item.contextValue =
    f.skip === 'credential-file'
      ? 'localtune.file.credential'
      : f.skip
        ? 'localtune.file.skipped'
        : 'localtune.file';
  return item;
}

function datasetItem(node: DatasetNode & { kind: 'dataset' }, actions: DatasetNode[]): vscode.TreeItem {
  const item = new vscode.TreeItem(
    node.info?.name ?? node.dir.split(/[\\/]/).pop()!,
    vscode.TreeItemCollapsibleState.Expanded,
  );
  item.contextValue = 'localtune.dataset';
  item.id = `dataset:${node.dir}`;
  if (!node.info) {
    item.description = 'unreadable';
    item.tooltip = node.error;
    item.iconPath = new vscode.ThemeIcon('warning');
    return item;
  }
  const m = node.info.manifest;
  const skipped = Object.values(m.skipped).reduce((a, b) => a + (b ?? 0), 0);
  const findings = Object.values(m.scrub.findings).reduce((a, b) => a + (b ?? 0), 0);
  const marks = actions.map((a) =>
    a.kind === 'action' ? (a.action === 'outOfDate' ? 'out of date' : 'built for another model') : '',
  );
  item.description = [
    ...marks,
    `${formatCount(m.tokens.train)} train · ${formatCount(m.tokens.validation)} val tokens · ${m.files.train + m.files.validation} files`,
  ].join(' · ');
  const skipList = Object.entries(m.skipped)
    .sort((a, b) => b[1]! - a[1]!)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const findingList = Object.entries(m.scrub.findings)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const o = node.info.config ?? undefined;
  item.tooltip = new vscode.MarkdownString(
    [
      `**${m.name}** — built ${new Date(m.createdAt).toLocaleString()}`,
      `- train: ${m.documents.train} documents, ${m.files.train} files, ${m.tokens.train} tokens`,
      `- validation: ${m.documents.validation} documents, ${m.files.validation} files, ${m.tokens.validation} tokens (split by ${m.split.method}, ${Math.round(m.split.valFraction * 100)}% held out)`,
      `- skipped: ${skipped ? skipList : 'nothing'}`,
      `- scrubbed: ${findings ? findingList : 'nothing'}${m.scrub.allowed ? ` (${m.scrub.allowed} marked false positives)` : ''}`,
      `- FIM: ${m.fim.style ? `${m.fim.documents} documents (${m.fim.style}, rate ${m.fim.rate}, SPM ${m.fim.spmRate})` : 'none (the model has no FIM tokens)'}`,
      `- tokenizer: ${m.tokenizer.modelPath}`,
      ...(o
        ? [
            `- options: include ${o.include.join(' ') || 'everything'}; exclude ${o.exclude.join(' ') || 'nothing'}`,
          ]
        : []),
    ].join('\n'),
  );
  item.iconPath = new vscode.ThemeIcon(
    'database',
    marks.length ? new vscode.ThemeColor('list.warningForeground') : undefined,
  );
  return item;
}
