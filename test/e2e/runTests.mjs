#!/usr/bin/env node
// The e2e entry point: the standard @vscode/test-electron runTests() call. Here (no download of
// VS Code possible) vscodeExecutablePath is test/e2e/code-server-exe.mjs, which runs the same tests
// in code-server's extension host with headless Chromium; with LOCALTUNE_E2E_DOWNLOAD=1 on a machine
// with network, runTests downloads and uses a desktop VS Code instead.
//
// Usage: node test/e2e/runTests.mjs [--no-build]
// Env: LOCALTUNE_E2E_GREP (pick tests by title), LOCALTUNE_E2E_KEEP=1 (keep the run's folder), LOCALTUNE_E2E_EXTENSION (extension folder, default
// the repo), LOCALTUNE_E2E_DOWNLOAD=1, LOCALTUNE_E2E_VERSION (downloaded VS Code, default stable).
// The tests get LOCALTUNE_E2E_WORKSPACE (the opened folder, fresh each run) and LOCALTUNE_E2E_MODEL
// (a small offline model folder, also the workspace's localtune.defaultModel).
import { runTests } from '@vscode/test-electron';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

// A fresh workspace and profile each run, in a folder of its own so that runs started at the same
// time (several engineers in one checkout) never share state; the model is cached.
const modelDir = ensureTinyModel(join(cache, 'model-tiny-gpt2'));
const runDir = mkdtempSync(join(tmpdir(), 'localtune-e2e-run-'));
const workspace = join(runDir, 'workspace');
const userDataDir = join(runDir, 'user-data');
const extensionsDir = join(runDir, 'extensions');
writeDemoWorkspace(workspace, { modelDir });
const keep = process.env.LOCALTUNE_E2E_KEEP === '1';
process.on('exit', () =>
  keep ? console.log(`[runTests] kept ${runDir}`) : rmSync(runDir, { recursive: true, force: true }),
);

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
