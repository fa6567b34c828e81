/**
 * The workspace context of a completion request: the open editors' files and the files the
 * current one imports (relative imports, resolved on disk), each cut to its window most like the
 * code before the cursor (engine/complete/context.ts). Only those windows travel to the worker.
 */
import { readFileSync, statSync } from 'node:fs';
import * as vscode from 'vscode';
import { pickSnippets, type ContextFile } from '../../engine/complete/context';
import { relativeImports } from '../../engine/complete/imports';

/** Files larger than this are not read for context (generated or data files). */
const MAX_FILE_BYTES = 256 * 1024;
/** Files looked at, at most: the open editors first, then imports. */
const MAX_FILES = 16;

function readSmall(path: string): string | undefined {
  try {
    if (statSync(path).size > MAX_FILE_BYTES) return undefined;
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The snippets for a request at the end of `prefix` in `document`. */
export function workspaceContext(document: vscode.TextDocument, prefix: string): ContextFile[] {
  const self = document.uri.fsPath;
  const paths: string[] = [];
  for (const group of vscode.window.tabGroups.all)
    for (const tab of group.tabs)
      if (tab.input instanceof vscode.TabInputText && tab.input.uri.scheme === 'file')
        paths.push(tab.input.uri.fsPath);
  if (document.uri.scheme === 'file')
    paths.push(...relativeImports(self, document.getText(), document.languageId));
  const open = new Map(vscode.workspace.textDocuments.map((d) => [d.uri.fsPath, d]));
  const files: ContextFile[] = [];
  for (const path of new Set(paths)) {
    if (path === self || files.length >= MAX_FILES) continue;
    // An open document's text as the user sees it (maybe unsaved), else the file on disk.
    const text = open.get(path)?.getText() ?? readSmall(path);
    if (text) files.push({ path: vscode.workspace.asRelativePath(path, false), text });
  }
  return pickSnippets(files, prefix).map(({ path, text }) => ({ path, text }));
}
