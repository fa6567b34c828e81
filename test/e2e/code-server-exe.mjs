#!/usr/bin/env node
// A stand-in for the VS Code executable, for @vscode/test-electron's runTests({ vscodeExecutablePath }).
// It accepts the arguments runTests passes (--extensionDevelopmentPath=, --extensionTestsPath=,
// --user-data-dir=, --extensions-dir=, a folder), runs the tests in code-server's real extension host,
// drives the workbench with headless Chromium (playwright-core), and exits with the tests' code.
// Recipe: docs/real-vscode.md.
//
// While the tests run, an HTTP endpoint on 127.0.0.1 takes screenshots of the workbench on request
// and reads its DOM back: its base URL is in LOCALTUNE_E2E_CONTROL_URL inside the extension host
// (GET /screenshot?name=x writes test-artifacts/screenshots/x.png; GET /dom?selector=CSS answers the
// rendered text of every matching element in the workbench and in every webview frame; GET
// /press?key=Enter presses a key in the workbench, for quick picks; GET /fill?selector=CSS&value=V
// and /click?selector=CSS fill a field and click, in the workbench or a webview, as a user would).
// The browser console (extension-host output) goes to stdout.
//
// Environment: LOCALTUNE_E2E_TIMEOUT_MS (default 20 min), LOCALTUNE_E2E_ARTIFACTS (default
// <repo>/test-artifacts), LOCALTUNE_E2E_VERBOSE=1 (also code-server's own log and all browser messages).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { clearTimeout, setTimeout } from 'node:timers';
import { URLSearchParams } from 'node:url';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { ensureVscodeEnv } from '../../scripts/vscode/setup.mjs';
import { clickOn, fillIn } from './pageActions.mjs';
import {
  codeServerArgs,
  codeServerEnv,
  freePort,
  quietUserSettings,
  waitForHealthy,
} from '../../scripts/vscode/codeServer.mjs';

const root = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const artifacts = resolve(process.env.LOCALTUNE_E2E_ARTIFACTS ?? join(root, 'test-artifacts'));
const screenshotDir = join(artifacts, 'screenshots');
const timeoutMs = Number(process.env.LOCALTUNE_E2E_TIMEOUT_MS ?? 20 * 60_000);
const verbose = process.env.LOCALTUNE_E2E_VERBOSE === '1';
const t0 = Date.now();
// Browser-console lines that are only the noise of a machine without network (see forwardConsole).
const noise = [
  /open-vsx\.org/,
  /authentication provider 'github'/,
  /^Failed to load resource/,
  /\[AccountPolicyGate\]/,
];
const say = (msg) => console.log(`[code-server-exe +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);

// ---- arguments, as runTests passes them ----
const devPaths = [];
let testsPath;
let userDataDir;
let extensionsDir;
let folder;
for (const arg of process.argv.slice(2)) {
  const [flag, ...rest] = arg.split('=');
  const value = rest.join('=');
  if (flag === '--extensionDevelopmentPath') devPaths.push(resolve(value));
  else if (flag === '--extensionTestsPath') testsPath = resolve(value);
  else if (flag === '--user-data-dir') userDataDir = resolve(value);
  else if (flag === '--extensions-dir') extensionsDir = resolve(value);
  else if (!arg.startsWith('-')) folder = resolve(arg);
  // Electron-only flags (--no-sandbox, --disable-updates, --skip-welcome, ...) mean nothing here.
}
if (devPaths.length === 0 || !testsPath) {
  console.error(
    'usage: code-server-exe.mjs --extensionDevelopmentPath=DIR --extensionTestsPath=PATH [--user-data-dir=DIR] [--extensions-dir=DIR] [FOLDER]',
  );
  process.exit(2);
}

const scratch = mkdtempSync(join(tmpdir(), 'localtune-e2e-'));
userDataDir ??= join(scratch, 'user-data');
extensionsDir ??= join(scratch, 'extensions');

let server; // code-server child (own process group)
let browser;
let control;
let exiting = false;

async function cleanup() {
  await browser?.close().catch(() => {});
  control?.close();
  if (server?.pid && server.exitCode === null) {
    try {
      process.kill(-server.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    await new Promise((r) => setTimeout(r, 300));
    try {
      process.kill(-server.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(scratch, { recursive: true, force: true });
}

async function finish(code, why) {
  if (exiting) return;
  exiting = true;
  if (why) say(why);
  await cleanup();
  say(`exit ${code}`);
  process.exit(code);
}
process.on('SIGINT', () => finish(130, 'interrupted'));
process.on('SIGTERM', () => finish(143, 'terminated'));
process.on('uncaughtException', (err) => finish(1, `error: ${err.stack ?? err}`));
process.on('unhandledRejection', (err) => finish(1, `error: ${err?.stack ?? err}`));

const env = ensureVscodeEnv();

// ---- the control endpoint (screenshots on request) ----
let page;
control = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  try {
    if (url.pathname === '/screenshot') {
      const name = (url.searchParams.get('name') ?? `shot-${Date.now()}`).replace(/[^A-Za-z0-9._-]+/g, '-');
      const path = await screenshot(name);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path }));
    } else if (url.pathname === '/press') {
      // A key pressed in the workbench as a user would (Playwright's key names: Enter, Escape, …).
      if (!page) throw new Error('the workbench page is not open yet');
      await page.keyboard.press(url.searchParams.get('key') ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    } else if (url.pathname === '/dom') {
      const texts = await domTexts(url.searchParams.get('selector') ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ texts }));
    } else if (url.pathname === '/fill' || url.pathname === '/click') {
      // A field filled or an element clicked as a user would (pageActions.mjs).
      if (!page) throw new Error('the workbench page is not open yet');
      const selector = url.searchParams.get('selector') ?? '';
      if (url.pathname === '/fill') await fillIn(page, selector, url.searchParams.get('value') ?? '');
      else await clickOn(page, selector);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    } else {
      res
        .writeHead(404)
        .end('unknown endpoint: use /screenshot?name=NAME, /dom?selector=CSS, /fill or /click');
    }
  } catch (err) {
    res.writeHead(500).end(String(err?.message ?? err));
  }
});
await new Promise((r) => control.listen(0, '127.0.0.1', r));
const controlUrl = `http://127.0.0.1:${control.address().port}`;

async function screenshot(name) {
  if (!page) throw new Error('the workbench page is not open yet');
  mkdirSync(screenshotDir, { recursive: true });
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path });
  say(`screenshot ${path}`);
  return path;
}

/**
 * The rendered text (innerText) of each element matching `selector`, in the workbench and in every
 * frame under it (webviews are nested iframes), visible or not, in document order per frame.
 */
async function domTexts(selector) {
  if (!page) throw new Error('the workbench page is not open yet');
  if (!selector) throw new Error('/dom needs ?selector=CSS');
  const texts = [];
  for (const frame of page.frames()) {
    const found = await frame
      .$$eval(selector, (els) => els.map((e) => ('innerText' in e ? e.innerText : e.textContent) ?? ''))
      .catch(() => []); // a frame that went away meanwhile
    // Editors draw spaces as no-break spaces: read back as the text has them.
    texts.push(...found.map((t) => t.replace(/\u00a0/g, ' ')));
  }
  return texts;
}

// ---- code-server ----
const port = await freePort();
const home = join(scratch, 'home');
for (const d of [userDataDir, extensionsDir, home, join(home, 'tmp')]) mkdirSync(d, { recursive: true });
const settingsFile = join(userDataDir, 'User', 'settings.json');
mkdirSync(join(userDataDir, 'User'), { recursive: true });
const existing = existsSync(settingsFile) ? JSON.parse(readFileSync(settingsFile, 'utf8') || '{}') : {};
writeFileSync(settingsFile, JSON.stringify({ ...quietUserSettings, ...existing }, null, 2));

say(`starting code-server on 127.0.0.1:${port}`);
server = spawn(
  env.node,
  [
    env.codeServerEntry,
    ...codeServerArgs({ port, userDataDir, extensionsDir, configFile: join(scratch, 'config.yaml') }),
    '--vscode-option',
    'enable-smoke-test-driver',
  ],
  {
    detached: true, // its own process group: process.kill(-pid) takes its children too
    stdio: ['ignore', 'pipe', 'pipe'],
    env: codeServerEnv(home, {
      LOCALTUNE_E2E_CONTROL_URL: controlUrl,
      LOCALTUNE_E2E_SCREENSHOTS: screenshotDir,
    }),
  },
);
let serverLog = '';
const onServerOutput = (chunk) => {
  serverLog = (serverLog + chunk).slice(-20_000);
  if (verbose) process.stdout.write(`[code-server] ${chunk}`);
};
server.stdout.on('data', onServerOutput);
server.stderr.on('data', onServerOutput);
server.on('exit', (code, signal) => {
  if (!exiting) {
    process.stdout.write(serverLog);
    finish(1, `code-server exited early (${code ?? signal})`);
  }
});
await waitForHealthy(port, 60_000);
say('code-server is up');

// ---- Chromium + the workbench with the test payload ----
browser = await chromium.launch({
  executablePath: env.chromium,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
  ],
});
page = await browser.newPage({ viewport: { width: 1440, height: 900 } });

let resolveExit;
const testsDone = new Promise((r) => (resolveExit = r));
await page.exposeFunction('codeAutomationExit', (code) => {
  resolveExit(Number(code) || 0);
});
page.on('console', (msg) => forwardConsole(msg));
page.on('pageerror', (err) => verbose && console.log(`[browser] page error: ${err.message}`));

const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
const payload = [
  ...devPaths.map((p) => ['extensionDevelopmentPath', remote(p)]),
  ['extensionTestsPath', remote(testsPath)],
];
const query = new URLSearchParams({ payload: JSON.stringify(payload) });
if (folder) query.set('folder', folder);
const url = `http://127.0.0.1:${port}/?${query}`;
say(`opening the workbench: folder ${folder ?? '(none)'}, tests ${testsPath}`);
await page.goto(url);

const timer = setTimeout(async () => {
  await screenshot('timeout').catch(() => {});
  finish(1, `tests did not finish within ${timeoutMs / 1000} s`);
}, timeoutMs);
const code = await testsDone;
clearTimeout(timer);
say(`tests finished with code ${code}`);
if (code !== 0) await screenshot('failure-final').catch(() => {});
await finish(code);

// The extension host's console.log reaches the browser console through the workbench's logger as
// "%c INFO color: #33f <text>" ("%c  ERR color: #f33 <text>" for errors); print just the text, and
// leave out the noise of a machine without network (gallery queries, GitHub auth, remote images).
function forwardConsole(msg) {
  const text = msg.text();
  const logged = text.match(/^%c\s*([A-Z]+)\s+color: #[0-9a-fA-F]+ ([\s\S]*)$/);
  const body = logged ? logged[2] : text;
  if (!verbose && noise.some((re) => re.test(body))) return;
  if (logged && logged[1] !== 'ERR') process.stdout.write(`${body}\n`);
  else if (logged) process.stdout.write(`[workbench error] ${body}\n`);
  else if (verbose || msg.type() === 'error') process.stdout.write(`[browser ${msg.type()}] ${body}\n`);
}
