/// <reference types="mocha" />
// Proves the harness: the extension loads in a real VS Code extension host and activates,
// and a screenshot of the workbench can be taken from inside the tests.
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { screenshot, waitFor } from './helpers';

describe('smoke', () => {
  it('the LocalTune extension is present and activates', async () => {
    const ext = vscode.extensions.getExtension('localtune.localtune');
    assert.ok(ext, 'extension localtune.localtune is not loaded');
    await ext.activate();
    assert.equal(ext.isActive, true);
  });

  it('a workspace folder is open', () => {
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.equal(folders.length, 1, 'expected the e2e workspace folder');
  });

  it('takes a screenshot of the workbench', async () => {
    // Show the explorer and let the workbench settle so the picture shows a loaded window.
    await vscode.commands.executeCommand('workbench.view.explorer');
    await waitFor(
      'the workspace files to be listed',
      async () => (await vscode.workspace.findFiles('**/*', null, 1)).length > 0,
    );
    await new Promise((r) => setTimeout(r, 1500));
    const path = await screenshot('smoke-workbench');
    if (path) assert.ok(existsSync(path), `screenshot not written: ${path}`);
  });
});
