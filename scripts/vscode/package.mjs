// Packages the extension as a platform-specific VSIX with @vscode/vsce. onnxruntime-node and
// @huggingface/transformers stay outside the bundle (build.mjs), so the production node_modules
// ship in the VSIX (vsce's dependency detection); .vscodeignore is the platform-neutral list and
// this adds, for the target, the other platforms' ONNX Runtime binaries to leave out.
//
// Usage: node scripts/vscode/package.mjs [--target linux-x64] [--out FILE]   (prints the VSIX path)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const ORT_TARGETS = ['linux/x64', 'linux/arm64', 'darwin/x64', 'darwin/arm64', 'win32/x64', 'win32/arm64'];

/** Builds `<out>` (default .cache/vsix/localtune-<version>-<target>.vsix) and returns its path. */
export function packageVsix({ target = 'linux-x64', out } = {}) {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const dir = join(root, '.cache', 'vsix');
  mkdirSync(dir, { recursive: true });
  out ??= join(dir, `localtune-${version}-${target}.vsix`);
  const [os, arch] = target.split('-');
  const otherOrt = ORT_TARGETS.filter((t) => t !== `${os}/${arch}`).map(
    (t) => `node_modules/onnxruntime-node/bin/napi-v*/${t}/**`,
  );
  const ignoreFile = join(dir, `vscodeignore-${target}`);
  writeFileSync(
    ignoreFile,
    `${readFileSync(join(root, '.vscodeignore'), 'utf8').trimEnd()}\n# ${target}: other platforms' ONNX Runtime\n${otherOrt.join('\n')}\n`,
  );
  const t0 = Date.now();
  console.log(`[package] vsce package --target ${target} (with production node_modules)`);
  execFileSync(
    process.execPath,
    [
      join(root, 'node_modules', '@vscode', 'vsce', 'vsce'),
      'package',
      '--target',
      target,
      '--dependencies',
      '--ignoreFile',
      ignoreFile,
      '--allow-missing-repository',
      '--skip-license',
      '--out',
      out,
    ],
    { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const mb = (statSync(out).size / 1e6).toFixed(1);
  console.log(`[package] ${out} (${mb} MB) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  packageVsix({ target: arg('--target'), out: arg('--out') });
}
