// Fetches the starter model's corpus: permissively licensed JavaScript/TypeScript packages from the
// npm registry (`npm pack`, pinned versions in packages.json), unpacked to one folder per package with
// only their source files. The dataset pipeline (scan, filter, scrub, dedup, FIM, split by package)
// runs on that folder afterwards. Usage: node scripts/starter/corpus.mjs [--dir DIR]
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { extname, join, relative } from 'node:path';
import { starterDir } from './paths.mjs';

const LICENSES = new Set([
  'MIT',
  'ISC',
  'Apache-2.0',
  'BSD-2-Clause',
  'BSD-3-Clause',
  '0BSD',
  'Unlicense',
  'CC0-1.0',
]);
const SOURCE = new Set(['.js', '.mjs', '.cjs', '.jsx', '.ts', '.mts', '.cts', '.tsx']);

const here = new URL('.', import.meta.url).pathname;
const dir = starterDir(process.argv);
const tarballs = join(dir, 'tarballs');
const corpus = join(dir, 'corpus');
mkdirSync(tarballs, { recursive: true });
mkdirSync(corpus, { recursive: true });

const packages = JSON.parse(readFileSync(join(here, 'packages.json'), 'utf8'));
const card = [];
for (const { name, version } of packages) {
  const spec = `${name}@${version}`;
  const folder = join(corpus, name.replace('/', '__'));
  const tgz = join(tarballs, `${name.replace('@', '').replace('/', '-')}-${version}.tgz`);
  if (!existsSync(tgz)) {
    // npm pack names the file itself; --json says which.
    const [info] = JSON.parse(
      execFileSync('npm', ['pack', spec, '--json', '--pack-destination', tarballs], { encoding: 'utf8' }),
    );
    renameSync(join(tarballs, info.filename), tgz);
  }
  if (!existsSync(folder)) {
    const tmp = `${folder}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    execFileSync('tar', ['-xzf', tgz, '-C', tmp, '--strip-components=1']);
    pruneToSource(tmp);
    renameSync(tmp, folder);
  }
  const meta = JSON.parse(
    readFileSync(join(tarballs, '..', 'corpus', name.replace('/', '__'), 'package.json'), 'utf8'),
  );
  const license = typeof meta.license === 'string' ? meta.license : meta.license?.type;
  if (!LICENSES.has(license))
    throw new Error(`${spec}: license ${JSON.stringify(license)} is not on the permissive list`);
  const { files, bytes } = sourceStats(folder);
  card.push({ name, version, license, files, bytes });
  console.log(
    `${spec.padEnd(28)} ${license.padEnd(13)} ${String(files).padStart(5)} files ${(bytes / 1e6).toFixed(2)} MB`,
  );
}
writeFileSync(join(dir, 'corpus.json'), JSON.stringify(card, null, 1) + '\n');
const total = card.reduce((a, p) => a + p.bytes, 0);
console.log(`${card.length} packages, ${(total / 1e6).toFixed(1)} MB of source in ${corpus}`);

/** Keeps package.json, the licence and source files; type declarations and maps go. */
function pruneToSource(root) {
  for (const entry of readdirSync(root, { recursive: true })) {
    const path = join(root, entry);
    if (!existsSync(path) || statSync(path).isDirectory()) continue;
    const rel = relative(root, path);
    const keep =
      rel === 'package.json' ||
      /^(licen[sc]e|copying)(\.[a-z]+)?$/i.test(rel) ||
      (SOURCE.has(extname(rel)) && !/\.d\.[cm]?ts$/.test(rel));
    if (!keep) rmSync(path);
  }
}

function sourceStats(root) {
  let files = 0;
  let bytes = 0;
  for (const entry of readdirSync(root, { recursive: true })) {
    const path = join(root, entry);
    if (SOURCE.has(extname(entry)) && statSync(path).isFile()) {
      files++;
      bytes += statSync(path).size;
    }
  }
  return { files, bytes };
}
