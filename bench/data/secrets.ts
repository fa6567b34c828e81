/**
 * The secret scrubber's quality and speed, as one JSON document:
 *
 *   npx tsx bench/data/secrets.ts [--mb 20] [--dir DIR] [--repeat 3]
 *
 * - planted: the planted-secret corpus (test/fixtures/secrets/corpus.ts) scrubbed file by file:
 *   values, kinds, findings, and `leaks` (values, or a piece of one, left in the output: must be 0).
 * - clean: the clean corpus (lockfile hashes, UUIDs, SHAs, base64 images, minified JS, i18n):
 *   findings there are false positives; `falsePositiveRate` is per file.
 * - throughput: MB/s of `scrub` in one thread over generated code-like files (~1 in 50 with a
 *   secret), over the planted corpus repeated (every file goes through secretlint), and with
 *   `--dir` over real source files below DIR (e.g. node_modules); best of `--repeat` passes.
 * - loadAverage: the machines are shared; compare figures within one run.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { scrub } from '../../src/data/scrub';
import { CLEAN_FILES, leakProbes, PLANTED, PLANTED_FILES } from '../../test/fixtures/secrets/corpus';

const { values: args } = parseArgs({
  options: {
    mb: { type: 'string', default: '20' },
    dir: { type: 'string' },
    repeat: { type: 'string', default: '3' },
  },
});
const repeat = Math.max(1, Number(args.repeat));
const targetBytes = Number(args.mb) * 1e6;
const load0 = loadavg().map((x) => +x.toFixed(2));

// planted
const scrubbed: string[] = [];
let plantedFindings = 0;
for (const [path, text] of Object.entries(PLANTED_FILES)) {
  const r = scrub(text, [], { path });
  scrubbed.push(r.text);
  for (const f of r.findings) plantedFindings += f.count;
}
const out = scrubbed.join('\n');
const leaked = PLANTED.filter((p) => leakProbes(p.value).some((x) => out.includes(x)));

// clean
let cleanFindings = 0;
let cleanFilesHit = 0;
for (const [path, text] of Object.entries(CLEAN_FILES)) {
  const n = scrub(text, [], { path }).findings.reduce((a, f) => a + f.count, 0);
  cleanFindings += n;
  if (n > 0) cleanFilesHit++;
}

// throughput over code-like files (as bench/data/scan.ts generates them, smaller)
const WORDS =
  'user order item price total count index value result config cache token request response buffer state node edge graph path file line parse render build load save update delete create fetch handle event queue worker task job batch model layer weight loss step rate'.split(
    ' ',
  );
let seed = 12345;
const rnd = (n: number) => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed % n;
};
function codeLike(i: number): string {
  const lines: string[] = [`// module ${i}`];
  const n = 40 + rnd(200);
  for (let j = 0; j < n; j++) {
    const a = WORDS[rnd(WORDS.length)];
    const b = WORDS[rnd(WORDS.length)];
    lines.push(
      rnd(3) === 0
        ? `export function ${a}_${b}${j}(${a}: number, ${b}: string): string {\n  return \`\${${a}}:\${${b}}\`;\n}`
        : `  const ${a}${j} = ${b}.${a}(${rnd(1000)}, "${b}-${a}");`,
    );
  }
  if (i % 50 === 0) lines.push(`const apiToken = "${'k9X2mQ7v'.repeat(3)}${i}";`);
  return lines.join('\n') + '\n';
}
const files: string[] = [];
let bytes = 0;
while (bytes < targetBytes) {
  const f = codeLike(files.length);
  files.push(f);
  bytes += f.length;
}
/**
 * MB/s of wall time, and MB per CPU second (moves least with other jobs' load), each the best of
 * `--repeat` passes.
 */
function rate(docs: string[], total: number): { mbPerSecond: number; mbPerCpuSecond: number } {
  let wall = Infinity;
  let cpu = Infinity;
  for (let r = 0; r < repeat; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (const d of docs) scrub(d);
    const c = process.cpuUsage(c0);
    wall = Math.min(wall, (performance.now() - t0) / 1000);
    cpu = Math.min(cpu, (c.user + c.system) / 1e6);
  }
  return { mbPerSecond: +(total / 1e6 / wall).toFixed(1), mbPerCpuSecond: +(total / 1e6 / cpu).toFixed(1) };
}

/** Source files under `dir` in a fixed order (sorted walk), up to `target` bytes: real code for `--dir`. */
function sourceFiles(dir: string, target: number): { docs: string[]; bytes: number } {
  const docs: string[] = [];
  let total = 0;
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (total >= target) return;
      const path = join(d, name);
      const st = statSync(path, { throwIfNoEntry: false });
      if (st?.isDirectory()) walk(path);
      else if (
        st &&
        st.size < 500_000 &&
        /\.(?:[cm]?[jt]sx?|json|md|py|ya?ml)$/.test(name) &&
        !/\.min\./.test(name)
      ) {
        const text = readFileSync(path, 'utf8');
        docs.push(text);
        total += text.length;
      }
    }
  };
  walk(dir);
  return { docs, bytes: total };
}
rate(files.slice(0, 200), 1); // warm up
const code = rate(files, bytes);
const planted = Object.values(PLANTED_FILES);
const plantedReps: string[] = [];
let plantedBytes = 0;
while (plantedBytes < Math.min(targetBytes, 1e6))
  for (const p of planted) {
    plantedReps.push(p);
    plantedBytes += p.length;
  }
const plantedRate = rate(plantedReps, plantedBytes);
const real = args.dir ? sourceFiles(args.dir, targetBytes) : null;
const realRate = real
  ? { dir: args.dir, mb: +(real.bytes / 1e6).toFixed(1), ...rate(real.docs, real.bytes) }
  : undefined;

console.log(
  JSON.stringify(
    {
      planted: {
        files: planted.length,
        values: PLANTED.length,
        kinds: new Set(PLANTED.map((p) => p.kind)).size,
        findings: plantedFindings,
        leaks: leaked.length,
        leakedKinds: leaked.map((p) => p.kind),
      },
      clean: {
        files: Object.keys(CLEAN_FILES).length,
        falsePositives: cleanFindings,
        filesWithFalsePositives: cleanFilesHit,
        falsePositiveRate: +(cleanFilesHit / Object.keys(CLEAN_FILES).length).toFixed(3),
      },
      throughput: {
        code: { mb: +(bytes / 1e6).toFixed(1), ...code },
        planted: { mb: +(plantedBytes / 1e6).toFixed(1), ...plantedRate },
        real: realRate,
      },
      loadAverage: { before: load0, after: loadavg().map((x) => +x.toFixed(2)) },
    },
    null,
    2,
  ),
);
