// Packages the extension as a platform-specific VSIX with @vscode/vsce. onnxruntime-node and
// @huggingface/transformers stay outside the bundle (build.mjs), so the production node_modules
// ship in the VSIX (vsce's dependency detection); .vscodeignore is the platform-neutral list and
// this narrows it, for the target, to that platform's ONNX Runtime binaries.
//
// Usage: node scripts/vscode/package.mjs [--target linux-x64] [--out FILE]   (prints the VSIX path)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');

/** Builds `<out>` (default .cache/vsix/localtune-<version>-<target>.vsix) and returns its path. */
export function packageVsix({ target = 'linux-x64', out, force = false } = {}) {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const dir = join(root, '.cache', 'vsix');
  mkdirSync(dir, { recursive: true });
  out ??= join(dir, `localtune-${version}-${target}.vsix`);
  // vsce keeps a file that any `!` pattern matches, so narrowing the platform-neutral include of
  // onnxruntime-node to this target's binaries means rewriting that include line.
  const [os, arch] = target.split('-');
  const neutral = readFileSync(join(root, '.vscodeignore'), 'utf8');
  const include = '!node_modules/!(onnxruntime-web)/**/!(*.map)';
  if (!neutral.split('\n').includes(include))
    throw new Error(`.vscodeignore no longer has the line ${include}`);
  const narrowed = [
    '!node_modules/!(onnxruntime-web|onnxruntime-node)/**/!(*.map)',
    `# ${target}: only this platform's ONNX Runtime binaries`,
    '!node_modules/onnxruntime-node/!(*.map)',
    '!node_modules/onnxruntime-node/!(bin)/**/!(*.map)',
    `!node_modules/onnxruntime-node/bin/napi-v*/${os}/${arch}/**`,
  ].join('\n');
  const ignoreFile = join(dir, `vscodeignore-${target}`);
  writeFileSync(ignoreFile, neutral.replace(include, narrowed));
  if (!force && upToDate(out)) {
    console.log(`[package] ${out} is up to date`);
    return out;
  }
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
      // The README links into the repository (docs/…), which has no public URL to rewrite them to.
      '--no-rewrite-relative-links',
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

/** The VSIX is newer than everything that goes into it (dist/, media/, manifests, ignore list). */
function upToDate(vsix) {
  if (!existsSync(vsix)) return false;
  const built = statSync(vsix).mtimeMs;
  const newest = (path) => {
    if (!existsSync(path)) return 0;
    const st = statSync(path);
    if (!st.isDirectory()) return st.mtimeMs;
    return Math.max(st.mtimeMs, ...readdirSync(path).map((e) => newest(join(path, e))));
  };
  const inputs = ['dist', 'media', 'package.json', 'package-lock.json', 'README.md', '.vscodeignore'];
  return Math.max(...inputs.map((p) => newest(join(root, p)))) < built;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  packageVsix({ target: arg('--target'), out: arg('--out'), force: true });
}
