// Bundles the extension, the CLI, the workers and the webview separately with esbuild.
// Native and heavy runtime packages stay external and ship in node_modules.
import { build } from 'esbuild';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const external = ['vscode', 'onnxruntime-node', '@huggingface/transformers', 'sharp'];

const nodeBundles = [
  { in: 'src/vscode/extension.ts', out: 'dist/extension.js' },
  { in: 'src/cli/main.ts', out: 'dist/cli.js', banner: '#!/usr/bin/env node' },
  { in: 'src/jobs/workers/train.ts', out: 'dist/worker/train.js' },
  { in: 'src/jobs/workers/complete.ts', out: 'dist/worker/complete.js' },
  { in: 'src/jobs/workers/chat.ts', out: 'dist/worker/chat.js' },
  { in: 'src/jobs/workers/handoff.ts', out: 'dist/worker/handoff.js' },
  { in: 'src/data/workers/prepare.ts', out: 'dist/worker/data-prepare.js' },
  { in: 'src/vscode/workers/datasetChanges.ts', out: 'dist/worker/dataset-changes.js' },
];
const webBundles = [
  { in: 'webview/main.ts', out: 'dist/webview/main.js' },
  { in: 'webview/playground/main.ts', out: 'dist/webview/playground.js' },
  { in: 'webview/finetune/main.ts', out: 'dist/webview/finetune.js' },
];

const jobs = [];
for (const b of nodeBundles.filter((b) => existsSync(join(root, b.in)))) {
  jobs.push(
    build({
      entryPoints: [join(root, b.in)],
      outfile: join(root, b.out),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      sourcemap: true,
      external,
      banner: b.banner ? { js: b.banner } : undefined,
      logLevel: 'warning',
    }),
  );
}
for (const b of webBundles.filter((b) => existsSync(join(root, b.in)))) {
  jobs.push(
    build({
      entryPoints: [join(root, b.in)],
      outfile: join(root, b.out),
      bundle: true,
      platform: 'browser',
      format: 'iife',
      target: 'es2022',
      sourcemap: true,
      logLevel: 'warning',
    }),
  );
}
// End-to-end tests: the in-host runner and every suite file, one CJS bundle each, loaded by the
// extension host from dist/test/e2e/suite/ (test/e2e/README.md). mocha is bundled; vscode is the host's.
const e2eSuiteDir = join(root, 'test/e2e/suite');
const e2eSuites = (dir) =>
  readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return e2eSuites(path);
    return entry.endsWith('.e2e.ts') ? [path] : [];
  });
if (existsSync(join(e2eSuiteDir, 'index.ts'))) {
  jobs.push(
    build({
      entryPoints: [join(e2eSuiteDir, 'index.ts'), ...e2eSuites(e2eSuiteDir)],
      outdir: join(root, 'dist/test/e2e/suite'),
      outbase: e2eSuiteDir,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      sourcemap: true,
      external: ['vscode', ...external],
      logLevel: 'warning',
      // mocha's parallel mode (worker files found by require.resolve) is never used in the host.
      logOverride: { 'require-resolve-not-external': 'silent' },
    }),
  );
}
await Promise.all(jobs);
