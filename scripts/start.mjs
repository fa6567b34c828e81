// `npm start`: LocalTune in a real VS Code on this machine. Packages the extension as a VSIX,
// installs it into code-server (VS Code's server and web workbench), opens a demo workspace and
// prints the URL; runs until Ctrl-C. See docs/real-vscode.md.
//
// Offline (no route to huggingface.co, as in CI) the demo builds a small
// GPT-2-shaped model locally and points the workspace's `localtune.defaultModel` at it; with network
// the extension's own default (a real small base model from the hub) is used.
//
// Options: --port N (default 8080, or LOCALTUNE_PORT; a free one if taken), --offline (force the local
// model), --screenshot (save test-artifacts/screenshots/start-demo.png once the workbench is up),
// --check (with --screenshot: stop after it; for verifying the demo).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  codeServerArgs,
  codeServerEnv,
  freePort,
  quietUserSettings,
  waitForHealthy,
} from './vscode/codeServer.mjs';
import { packageVsix } from './vscode/package.mjs';
import { ensureVscodeEnv } from './vscode/setup.mjs';
import { ensureTinyModel, writeDemoWorkspace } from './vscode/workspace.mjs';

const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const say = (msg) => console.log(`[start] ${msg}`);

const demo = join(root, '.cache', 'demo');
const workspace = join(demo, 'workspace');
const userDataDir = join(demo, 'user-data');
const extensionsDir = join(demo, 'extensions');
const home = join(demo, 'home');

const env = ensureVscodeEnv();
if (!existsSync(join(root, 'dist', 'extension.js'))) {
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
}
const vsix = packageVsix({ target: 'linux-x64' });

// ---- the demo workspace and its model ----
const HUB_MODEL = 'HuggingFaceTB/SmolLM2-135M';
async function hubReachable() {
  try {
    const res = await globalThis.fetch(`https://huggingface.co/api/models/${HUB_MODEL}`, {
      method: 'HEAD',
      signal: globalThis.AbortSignal.timeout(3000),
    });
    return res.ok;
  } catch {
    return false;
  }
}
const offline = flag('--offline') || process.env.LOCALTUNE_DEMO_OFFLINE === '1' || !(await hubReachable());
let modelDir;
// The starter model LocalTune pretrains itself (models/starter, see its README.md) is the offline default.
const starter = join(root, 'models', 'starter');
if (offline && existsSync(join(starter, 'model.safetensors'))) {
  say(`no route to the Hugging Face hub: the demo uses LocalTune's starter model (${starter})`);
  modelDir = starter;
} else if (offline) {
  say(
    `no route to the Hugging Face hub and no models/starter: the demo uses a small GPT-2-shaped model built here (random weights)`,
  );
  modelDir = ensureTinyModel(join(demo, 'model-tiny-gpt2'));
} else {
  say(`the hub is reachable: the extension's default base model (${HUB_MODEL}) is downloaded on first use`);
}
writeDemoWorkspace(workspace, { modelDir, randomWeights: modelDir !== undefined && modelDir !== starter });

// ---- code-server: install the VSIX, quiet settings, start ----
for (const d of [userDataDir, extensionsDir, join(home, 'tmp'), join(userDataDir, 'User')]) {
  mkdirSync(d, { recursive: true });
}
const serverEnv = codeServerEnv(home);
const configFile = join(demo, 'config.yaml');
const base = (port) => codeServerArgs({ port, userDataDir, extensionsDir, configFile });
say(`installing ${vsix} into code-server`);
execFileSync(env.node, [env.codeServerEntry, ...base(0), '--install-extension', vsix, '--force'], {
  env: serverEnv,
  stdio: ['ignore', 'inherit', 'inherit'],
});
const settingsFile = join(userDataDir, 'User', 'settings.json');
const userSettings = existsSync(settingsFile) ? JSON.parse(readFileSync(settingsFile, 'utf8') || '{}') : {};
writeFileSync(settingsFile, JSON.stringify({ ...quietUserSettings, ...userSettings }, null, 2));

const wanted = Number(option('--port') ?? process.env.LOCALTUNE_PORT ?? 8080);
const port = (await portFree(wanted)) ? wanted : await freePort();
const server = spawn(env.node, [env.codeServerEntry, ...base(port), workspace], {
  detached: true, // own process group: process.kill(-pid) stops its children too
  stdio: ['ignore', 'pipe', 'pipe'],
  env: serverEnv,
});
let serverLog = '';
const keepLog = (chunk) => (serverLog = (serverLog + chunk).slice(-20_000));
server.stdout.on('data', keepLog);
server.stderr.on('data', keepLog);
let stopping = false;
const stop = (code) => {
  if (stopping) return;
  stopping = true;
  try {
    process.kill(-server.pid, 'SIGTERM');
  } catch {
    // already gone
  }
  process.exit(code);
};
process.on('SIGINT', () => {
  say('stopping code-server');
  stop(0);
});
process.on('SIGTERM', () => stop(0));
server.on('exit', (code, signal) => {
  if (stopping) return;
  process.stderr.write(serverLog);
  say(`code-server exited (${code ?? signal})`);
  process.exit(1);
});
await waitForHealthy(port, 60_000);

const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`;
console.log(`
  LocalTune is running in VS Code (code-server) — open:

    ${url}

  workspace: ${workspace}
  model:     ${modelDir === starter ? `${modelDir} (LocalTune's starter model, offline)` : modelDir ? `${modelDir} (built locally, offline)` : `${HUB_MODEL} (from the hub)`}
  Press Ctrl-C to stop.
`);

if (flag('--screenshot') || flag('--check')) {
  const path = await screenshotWorkbench(url);
  say(`screenshot ${path}`);
  if (flag('--check')) stop(0);
}

async function portFree(p) {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(p, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function screenshotWorkbench(target) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: env.chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(target);
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    await sleep(8000);
    // Open the LocalTune view when the activity bar shows it.
    const tab = page.locator('.activitybar [aria-label^="LocalTune"]').first();
    if (await tab.count()) {
      await tab.click();
      await sleep(3000);
    }
    const dir = join(root, 'test-artifacts', 'screenshots');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'start-demo.png');
    await page.screenshot({ path });
    return path;
  } finally {
    await browser.close();
  }
}
