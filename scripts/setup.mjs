// Installs dependencies when they are missing or older than package.json.
// Dependency-free on purpose: it runs before anything is installed.
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const marker = join(root, 'node_modules', '.package-lock.json');
const manifest = join(root, 'package.json');

const stale = !existsSync(marker) || statSync(marker).mtimeMs < statSync(manifest).mtimeMs;
if (stale) {
  console.log('[setup] installing dependencies (onnxruntime-node CPU binaries, no CUDA download)');
  // onnxruntime-node's install script downloads CUDA libraries; the CPU binaries ship in the package.
  execSync('npm install --no-audit --no-fund', {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
}
