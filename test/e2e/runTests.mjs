#!/usr/bin/env node
// The e2e entry point: the standard @vscode/test-electron runTests() call. Here (no download of
// VS Code possible) vscodeExecutablePath is test/e2e/code-server-exe.mjs, which runs the same tests
// in code-server's extension host with headless Chromium; with LOCALTUNE_E2E_DOWNLOAD=1 on a machine
// with network, runTests downloads and uses a desktop VS Code instead.
//
// Usage: node test/e2e/runTests.mjs [--no-build]
// Env: LOCALTUNE_E2E_GREP (pick tests by title), LOCALTUNE_E2E_EXTENSION (extension folder, default
// the repo), LOCALTUNE_E2E_DOWNLOAD=1, LOCALTUNE_E2E_VERSION (downloaded VS Code, default stable).
// The tests get LOCALTUNE_E2E_WORKSPACE (the opened folder, fresh each run) and LOCALTUNE_E2E_MODEL
// (a small offline model folder, also the workspace's localtune.defaultModel).
import { runTests } from '@vscode/test-electron';
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureTinyModel, writeDemoWorkspace } from '../../scripts/vscode/workspace.mjs';

const root = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const cache = join(root, '.cache', 'e2e');

if (!process.argv.includes('--no-build')) {
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
}
const extensionDevelopmentPath = resolve(process.env.LOCALTUNE_E2E_EXTENSION ?? root);
const extensionTestsPath = join(root, 'dist', 'test', 'e2e', 'suite', 'index.js');
if (!existsSync(extensionTestsPath))
  throw new Error(`${extensionTestsPath} is missing: run node scripts/build.mjs`);

// A fresh workspace and profile each run; the model is cached.
const modelDir = ensureTinyModel(join(cache, 'model-tiny-gpt2'));
const workspace = join(cache, 'workspace');
const userDataDir = join(cache, 'user-data');
const extensionsDir = join(cache, 'extensions');
for (const d of [workspace, userDataDir, extensionsDir]) rmSync(d, { recursive: true, force: true });
writeDemoWorkspace(workspace, { modelDir });

const download = process.env.LOCALTUNE_E2E_DOWNLOAD === '1';
try {
  await runTests({
    vscodeExecutablePath: download ? undefined : join(root, 'test', 'e2e', 'code-server-exe.mjs'),
    version: download ? (process.env.LOCALTUNE_E2E_VERSION ?? 'stable') : undefined,
    extensionDevelopmentPath,
    extensionTestsPath,
    launchArgs: [workspace, `--user-data-dir=${userDataDir}`, `--extensions-dir=${extensionsDir}`],
    extensionTestsEnv: {
      LOCALTUNE_E2E_WORKSPACE: workspace,
      LOCALTUNE_E2E_MODEL: modelDir,
    },
  });
} catch (err) {
  console.error(`[runTests] ${err instanceof Error ? err.message : err}`);
  process.exit(typeof err?.code === 'number' && err.code !== 0 ? err.code : 1);
}
