/**
 * The Datasets view: each dataset in `.localtune/datasets/` → its sources → files, with token
 * counts, skip reasons and scrub findings in descriptions and tooltips. Empty: a welcome view
 * (package.json) offers "Build dataset from workspace".
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import {
  listDatasetDirs,
  readDatasetInfo,
  type DatasetFile,
  type DatasetInfo,
  type DatasetSource,
} from '../datasetInfo';
import { formatCount } from '../format';

export type DatasetNode =
  | { kind: 'dataset'; dir: string; info?: DatasetInfo; error?: string }
  | { kind: 'source'; dataset: DatasetInfo; source: DatasetSource }
  | { kind: 'file'; dataset: DatasetInfo; file: DatasetFile };

export class DatasetsTree implements vscode.TreeDataProvider<DatasetNode> {
  private readonly changed = new vscode.EventEmitter<DatasetNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly workspace: () => string | undefined) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  /** The datasets as the view lists them (also for tests and the Start fine-tuning pick). */
  datasets(): DatasetNode[] {
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
    if (node.kind === 'dataset')
      return (node.info?.sources ?? []).map((source) => ({ kind: 'source', dataset: node.info!, source }));
    if (node.kind === 'source')
      return node.source.files.map((file) => ({ kind: 'file', dataset: node.dataset, file }));
    return [];
  }

  getTreeItem(node: DatasetNode): vscode.TreeItem {
    if (node.kind === 'dataset') return datasetItem(node);
    if (node.kind === 'source') {
      const s = node.source;
      // A workspace folder reads as its name; files as their path in the workspace.
      const rel = vscode.workspace.asRelativePath(s.path, false);
      const item = new vscode.TreeItem(
        rel === s.path ? basename(s.path) : rel,
        vscode.TreeItemCollapsibleState.Collapsed,
      );
      const used = s.files.filter((f) => !f.skip).length;
      item.description = `${s.documents} documents · ${used} files`;
      item.tooltip = `${s.kind} source ${s.path}\n${s.documents} documents from ${used} files; ${s.files.length - used} files skipped`;
      item.iconPath = new vscode.ThemeIcon(s.kind === 'workspace' ? 'root-folder' : 'file');
      item.contextValue = 'localtune.source';
      return item;
    }
    const f = node.file;
    const item = new vscode.TreeItem(f.fileId, vscode.TreeItemCollapsibleState.None);
    const open = f.findings.filter((x) => !x.allowed);
    const parts: string[] = [];
    if (f.skip) parts.push(`skipped: ${f.skip}`);
    else parts.push(f.tokens ? `${formatCount(f.tokens)} tokens` : 'duplicate');
    if (open.length) parts.push(`${open.reduce((n, x) => n + x.count, 0)} scrubbed`);
    item.description = parts.join(' · ');
    const lines = [f.absPath];
    if (f.skip) lines.push(`Left out: ${f.skip}`);
    else lines.push(`${f.documents} document(s), ${f.tokens} tokens`);
    for (const x of f.findings)
      lines.push(
        `line ${x.line}: ${x.count} ${x.kind}${x.allowed ? ' (marked a false positive, kept)' : ' (replaced by a placeholder)'}`,
      );
    item.tooltip = lines.join('\n');
    item.iconPath = new vscode.ThemeIcon(f.skip ? 'circle-slash' : open.length ? 'shield' : 'file-code');
    item.resourceUri = vscode.Uri.file(f.absPath);
    item.command = { command: 'vscode.open', title: 'Open', arguments: [vscode.Uri.file(f.absPath)] };
    item.contextValue = f.skip ? 'localtune.file.skipped' : 'localtune.file';
    return item;
  }
}

function datasetItem(node: DatasetNode & { kind: 'dataset' }): vscode.TreeItem {
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
  item.description = `${formatCount(m.tokens.train)} train · ${formatCount(m.tokens.validation)} val tokens · ${m.files.train + m.files.validation} files`;
  const skipList = Object.entries(m.skipped)
    .sort((a, b) => b[1]! - a[1]!)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const findingList = Object.entries(m.scrub.findings)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  item.tooltip = new vscode.MarkdownString(
    [
      `**${m.name}** — built ${new Date(m.createdAt).toLocaleString()}`,
      `- train: ${m.documents.train} documents, ${m.files.train} files, ${m.tokens.train} tokens`,
      `- validation: ${m.documents.validation} documents, ${m.files.validation} files, ${m.tokens.validation} tokens (split by ${m.split.method})`,
      `- skipped: ${skipped ? skipList : 'nothing'}`,
      `- scrubbed: ${findings ? findingList : 'nothing'}${m.scrub.allowed ? ` (${m.scrub.allowed} marked false positives)` : ''}`,
      `- FIM: ${m.fim.style ? `${m.fim.documents} documents (${m.fim.style})` : 'none (the model has no FIM tokens)'}`,
      `- tokenizer: ${m.tokenizer.modelPath}`,
    ].join('\n'),
  );
  item.iconPath = new vscode.ThemeIcon('database');
  return item;
}
