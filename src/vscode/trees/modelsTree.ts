/**
 * The Models view: base models to fine-tune — the configured default (`localtune.defaultModel`),
 * folders the user added, and snapshots in the Hugging Face cache — with their size. When the
 * default is a local folder rather than the hub model, the view says so plainly.
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { formatBytes } from '../../engine/hub/hubProgress';
import { formatCount } from '../format';
import { cachedHubModels, describeModel, isLocalFolder, isModelDir, type ModelEntry } from '../modelCatalog';
import { settings } from '../settings';

export type ModelNode =
  | { kind: 'model'; entry: ModelEntry; isDefault: boolean; removable: boolean }
  | { kind: 'missing-default'; id: string }
  | { kind: 'notice'; text: string; tooltip: string };

export class ModelsTree implements vscode.TreeDataProvider<ModelNode> {
  private readonly changed = new vscode.EventEmitter<ModelNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly hubCaches: () => string[]) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  /** Every model on disk, the default first. */
  models(): ModelNode[] {
    const cfg = settings();
    const nodes: ModelNode[] = [];
    const seen = new Set<string>();
    const add = (n: ModelNode & { kind: 'model' }) => {
      if (seen.has(n.entry.dir)) return;
      seen.add(n.entry.dir);
      nodes.push(n);
    };
    const def = cfg.defaultModel;
    const cached = this.hubCaches().flatMap(cachedHubModels);
    if (isLocalFolder(def) && isModelDir(def)) {
      nodes.push({
        kind: 'notice',
        text: `Default model: local folder ${basename(def)}`,
        tooltip:
          `localtune.defaultModel is the local folder ${def}, not a model id from the Hugging Face hub: ` +
          'runs start from the weights in that folder. Set localtune.defaultModel to a hub id such as ' +
          'HuggingFaceTB/SmolLM2-135M to start from a published base model instead.',
      });
      add({
        kind: 'model',
        entry: describeModel(def, 'folder', basename(def)),
        isDefault: true,
        removable: false,
      });
    } else {
      const hit = cached.find((m) => m.hubId === def);
      if (hit) add({ kind: 'model', entry: hit, isDefault: true, removable: false });
      else nodes.push({ kind: 'missing-default', id: def });
    }
    for (const dir of cfg.modelFolders)
      if (isModelDir(dir))
        add({
          kind: 'model',
          entry: describeModel(dir, 'folder', basename(dir)),
          isDefault: false,
          removable: true,
        });
    for (const m of cached) add({ kind: 'model', entry: m, isDefault: false, removable: false });
    return nodes;
  }

  getChildren(node?: ModelNode): ModelNode[] {
    return node ? [] : this.models();
  }

  getTreeItem(node: ModelNode): vscode.TreeItem {
    if (node.kind === 'notice') {
      const item = new vscode.TreeItem(node.text);
      item.tooltip = node.tooltip;
      item.description = 'a local folder';
      item.iconPath = new vscode.ThemeIcon('info');
      return item;
    }
    if (node.kind === 'missing-default') {
      const item = new vscode.TreeItem(node.id);
      item.description = 'default · not downloaded';
      item.tooltip = `The default base model ${node.id} is not in the Hugging Face cache yet. Click to download it.`;
      item.iconPath = new vscode.ThemeIcon('cloud-download');
      item.command = { command: 'localtune.addModel', title: 'Download', arguments: [node.id] };
      item.contextValue = 'localtune.model.missing';
      return item;
    }
    const m = node.entry;
    const item = new vscode.TreeItem(m.label);
    const params = m.parameters ? `${formatCount(m.parameters)} params` : '';
    item.description = [
      node.isDefault ? 'default' : '',
      formatBytes(m.bytes),
      params,
      m.supported ? '' : `${m.modelType ?? '?'}: not supported`,
    ]
      .filter(Boolean)
      .join(' · ');
    item.tooltip = `${m.dir}\n${m.origin === 'hub-cache' ? 'Hugging Face cache' : 'local folder'}, model_type ${m.modelType ?? 'unknown'}, ${formatBytes(m.bytes)}`;
    item.iconPath = new vscode.ThemeIcon(m.supported ? 'symbol-class' : 'warning');
    item.contextValue = `localtune.model${node.removable ? '.removable' : ''}`;
    return item;
  }
}
