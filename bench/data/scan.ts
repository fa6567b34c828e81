/**
 * Dataset-layer throughput on a generated workspace (default 50,000 files / 500 MB of code-like
 * text with some secrets, duplicates, near-duplicates, vendored folders and lock files):
 *
 *   prepare:     scan + filter + scrub + dedup (the pass before tokenization), MB/s, CPU seconds and
 *                peak RSS, in one thread and with --workers worker threads
 *   tokenize:    our encoder (pre-token memo) vs calling the tokenizer naively file by file, same files,
 *                same run, ids checked equal
 *   build:       a full `buildDataset` (tokenization included), then rebuilds: unchanged, and after
 *                editing 3 files
 *
 *   npx tsx bench/data/scan.ts [--files 50000] [--mb 500] [--dir DIR] [--tokenize-mb 20]
 *                              [--build-files N] [--no-build] [--workers N]
 *
 * --dir keeps the generated workspace (reused when its marker matches); --build-files limits the
 * full build to the first N files' folders (default: all). Each stage runs in its own child
 * process so its peak RSS is its own. Prints ONE JSON document on stdout; progress on stderr.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildDataset } from '../../src/data/build';
import { Deduper } from '../../src/data/dedup';
import { skipByName } from '../../src/data/filters';
import { WorkspaceScanner } from '../../src/data/scan';
import { defaultWorkers, prepareFile, PreparePool, type Prepared } from '../../src/data/prepare';
import { SampleEncoder } from '../../src/data/tokenize';
import { writeGpt2TokenizerFiles } from '../../fixtures/gpt2Tokenizer';
import { loadTokenizer } from '../../src/engine/tokenizer/tokenizer';
import { Rng } from '../../src/engine/rng';
import { WORKER_ENV } from '../../src/jobs/fork';

const { values: args } = parseArgs({
  options: {
    files: { type: 'string', default: '50000' },
    mb: { type: 'string', default: '500' },
    dir: { type: 'string' },
    'tokenize-mb': { type: 'string', default: '20' },
    'build-files': { type: 'string' },
    'no-build': { type: 'boolean' },
    stage: { type: 'string' },
    model: { type: 'string' },
    workers: { type: 'string' },
  },
});

const log = (msg: string) => process.stderr.write(`[bench/data] ${msg}\n`);
const rssMB = () => Math.round(process.resourceUsage().maxRSS / 1024);

// ---------- generation ----------

const WORDS =
  'user order item price total count index value result config cache token request response buffer state node edge graph path file line parse render build load save update delete create fetch handle event queue worker task job batch model layer weight loss step rate'.split(
    ' ',
  );

function ident(rng: Rng): string {
  const a = WORDS[rng.nextInt(WORDS.length)];
  const b = WORDS[rng.nextInt(WORDS.length)];
  return `${a}${b[0].toUpperCase()}${b.slice(1)}${rng.nextInt(100)}`;
}

function tsFunction(rng: Rng): string {
  const name = ident(rng);
  const lines = [`export function ${name}(${ident(rng)}: number, ${ident(rng)}: string): number {`];
  const body = 3 + rng.nextInt(12);
  for (let i = 0; i < body; i++) {
    const r = rng.nextInt(5);
    if (r === 0) lines.push(`  const ${ident(rng)} = ${ident(rng)}(${rng.nextInt(1000)}, '${ident(rng)}');`);
    else if (r === 1)
      lines.push(
        `  if (${ident(rng)} > ${rng.nextInt(100)}) {`,
        `    return ${ident(rng)} * ${rng.nextInt(50)};`,
        '  }',
      );
    else if (r === 2)
      lines.push(
        `  // ${WORDS[rng.nextInt(WORDS.length)]} the ${ident(rng)} before ${WORDS[rng.nextInt(WORDS.length)]}`,
      );
    else if (r === 3)
      lines.push(`  for (let i = 0; i < ${ident(rng)}.length; i++) ${ident(rng)} += ${ident(rng)}[i];`);
    else lines.push(`  ${ident(rng)}.${ident(rng)}(${ident(rng)}, ${rng.nextInt(10)});`);
  }
  lines.push(`  return ${ident(rng)};`, '}', '');
  return lines.join('\n');
}

function pyFunction(rng: Rng): string {
  const lines = [
    `def ${ident(rng)}(${ident(rng)}, ${ident(rng)}=None):`,
    `    """${WORDS[rng.nextInt(WORDS.length)]} the ${ident(rng)}."""`,
  ];
  const body = 3 + rng.nextInt(12);
  for (let i = 0; i < body; i++) {
    const r = rng.nextInt(4);
    if (r === 0) lines.push(`    ${ident(rng)} = ${ident(rng)}(${rng.nextInt(1000)}, "${ident(rng)}")`);
    else if (r === 1)
      lines.push(
        `    if ${ident(rng)} > ${rng.nextInt(100)}:`,
        `        return ${ident(rng)} * ${rng.nextInt(50)}`,
      );
    else if (r === 2) lines.push(`    # ${WORDS[rng.nextInt(WORDS.length)]} the ${ident(rng)}`);
    else lines.push(`    for ${ident(rng)} in ${ident(rng)}:`, `        ${ident(rng)}.append(${ident(rng)})`);
  }
  lines.push(`    return ${ident(rng)}`, '', '');
  return lines.join('\n');
}

const SECRETS = [
  () => `const apiKey = "sk-${'Ab3d'.repeat(12)}";\n`,
  () => `# contact: jane.doe@corp.example.com, server 10.20.30.40\n`,
  () => `DB_URL = "postgres://app:S3cretPw9@db.internal:5432/app"\n`,
];

function generate(dir: string, files: number, totalMB: number): void {
  const marker = join(dir, '.bench-marker');
  const want = `${files}:${totalMB}:v1`;
  if (existsSync(marker) && readFileSync(marker, 'utf8') === want) {
    log(`reusing workspace ${dir}`);
    return;
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(1234);
  const target = (totalMB * 1e6) / files;
  const written: string[] = [];
  let bytes = 0;
  const t0 = performance.now();
  for (let i = 0; i < files; i++) {
    const pkg = `pkg${Math.floor(i / 500)}`;
    const sub = `mod${Math.floor(i / 50) % 10}`;
    const py = i % 3 === 0;
    let rel = `${pkg}/src/${sub}/f${i}.${py ? 'py' : 'ts'}`;
    let text: string;
    const roll = rng.nextInt(1000);
    if (roll < 10 && written.length) {
      text = readFileSync(join(dir, written[rng.nextInt(written.length)]), 'utf8'); // exact copy
    } else if (roll < 20 && written.length) {
      const lines = readFileSync(join(dir, written[rng.nextInt(written.length)]), 'utf8').split('\n');
      lines[rng.nextInt(lines.length)] = '// edited line';
      text = lines.join('\n'); // near copy
    } else {
      const size = target * (0.2 + 1.6 * rng.next());
      const parts: string[] = [];
      let n = 0;
      while (n < size) {
        const f = py ? pyFunction(rng) : tsFunction(rng);
        parts.push(f);
        n += f.length;
      }
      if (roll < 40) parts.splice(1, 0, SECRETS[rng.nextInt(SECRETS.length)]());
      text = parts.join('\n');
    }
    if (roll >= 990) rel = `${pkg}/node_modules/dep${i}/index.js`;
    else if (roll >= 985) rel = `${pkg}/web/app${i}.min.js`;
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
    if (!rel.includes('node_modules') && !rel.includes('.min.')) written.push(rel);
    bytes += Buffer.byteLength(text);
  }
  writeFileSync(marker, want);
  log(
    `generated ${files} files, ${(bytes / 1e6).toFixed(0)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}

// ---------- stages (each in its own process) ----------

/** Pass 1 of a build as `buildDataset` runs it: read, hash, filter, scrub, fingerprint (in `workers`
 * threads, or in this one when 0), results taken in scan order, then dedup. */
async function stagePrepare(dir: string, workers: number): Promise<object> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const scanner = new WorkspaceScanner(dir, {});
  const deduper = new Deduper();
  const pool = workers > 0 ? PreparePool.create(workers, 1) : null;
  if (workers > 0 && !pool) throw new Error('no dataset worker module found');
  let bytes = 0;
  let files = 0;
  let docs = 0;
  let findings = 0;
  const skipped: Record<string, number> = {};
  const queue: { relPath: string; prepared: Prepared | Promise<Prepared> }[] = [];
  const finish = async () => {
    const { relPath, prepared } = queue.shift()!;
    pool?.flush();
    const p = await prepared;
    if ('error' in p || 'unchanged' in p) throw new Error(`${relPath}: unexpected ${JSON.stringify(p)}`);
    if ('skip' in p) {
      skipped[p.skip] = (skipped[p.skip] ?? 0) + 1;
      return;
    }
    findings += p.findings.length;
    for (const d of p.docs) {
      if (!deduper.check(relPath, d.exact, d.sig).duplicate) docs++;
    }
  };
  for (const f of scanner.files()) {
    if (skipByName(f.relPath)) continue;
    bytes += f.size;
    files++;
    const job = { absPath: f.absPath, keepText: false };
    queue.push({ relPath: f.relPath, prepared: pool ? pool.prepare(job, f.size) : prepareFile(job, 1) });
    while (queue.length > (pool ? 1024 : 0)) await finish();
  }
  while (queue.length) await finish();
  await pool?.close();
  const seconds = (performance.now() - t0) / 1000;
  return {
    workers,
    files,
    mb: +(bytes / 1e6).toFixed(1),
    seconds: +seconds.toFixed(2),
    mbPerSecond: +(bytes / 1e6 / seconds).toFixed(1),
    // CPU time of all threads: MB per CPU-second is what load on a shared machine disturbs least.
    cpuSeconds: +cpuSecondsSince(cpu0).toFixed(2),
    mbPerCpuSecond: +(bytes / 1e6 / cpuSecondsSince(cpu0)).toFixed(1),
    keptDocuments: docs,
    scrubFindings: findings,
    dedup: deduper.summary(),
    skipped: { ...scanner.skips, ...skipped },
    peakRssMB: rssMB(),
  };
}

function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1e6;
}

async function stageTokenize(dir: string, modelDir: string, limitMB: number): Promise<object> {
  const tokenizer = await loadTokenizer(modelDir);
  const texts: string[] = [];
  let bytes = 0;
  for (const f of new WorkspaceScanner(dir, {}).files()) {
    if (skipByName(f.relPath)) continue;
    const t = readFileSync(f.absPath, 'utf8');
    texts.push(t);
    bytes += Buffer.byteLength(t);
    if (bytes > limitMB * 1e6) break;
  }
  const mb = bytes / 1e6;
  let t0 = performance.now();
  const naive = texts.map((t) => tokenizer.encode(t));
  const naiveS = (performance.now() - t0) / 1000;
  const json = JSON.parse(readFileSync(join(modelDir, 'tokenizer.json'), 'utf8'));
  const encoder = new SampleEncoder(tokenizer, tokenizer.eosId!, json);
  t0 = performance.now();
  const ours = texts.map((t) => encoder.encodeText(t));
  const oursS = (performance.now() - t0) / 1000;
  const identical = ours.every(
    (ids, i) => ids.length === naive[i].length && ids.every((x, j) => x === naive[i][j]),
  );
  const tokens = naive.reduce((n, ids) => n + ids.length, 0);
  return {
    files: texts.length,
    mb: +mb.toFixed(1),
    tokens,
    naiveMBPerSecond: +(mb / naiveS).toFixed(2),
    pipelineMBPerSecond: +(mb / oursS).toFixed(2),
    speedup: +(naiveS / oursS).toFixed(2),
    chunked: encoder.chunked,
    preTokenMemo: encoder.preTokenizer !== null,
    identicalIds: identical,
    peakRssMB: rssMB(),
  };
}

async function stageBuild(
  dir: string,
  modelDir: string,
  outDir: string,
  include?: string[],
): Promise<object> {
  const tokenizer = await loadTokenizer(modelDir);
  const opts = { sources: [dir], outDir, modelDir, tokenizer, include, fimRate: 0.5, seed: 1 };
  let t0 = performance.now();
  const full = await buildDataset(opts);
  const fullS = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const same = await buildDataset(opts);
  const sameS = (performance.now() - t0) / 1000;
  // Edit three files the build kept.
  const edited: string[] = [];
  for (const f of new WorkspaceScanner(dir, { include }).files()) {
    if (edited.length === 3) break;
    if (skipByName(f.relPath) || !f.relPath.endsWith('.ts')) continue;
    const text = readFileSync(f.absPath, 'utf8');
    writeFileSync(f.absPath, `${text}\n// edited by the benchmark at ${Date.now()}\n`);
    edited.push(f.relPath);
  }
  t0 = performance.now();
  const three = await buildDataset(opts);
  const threeS = (performance.now() - t0) / 1000;
  const m = full.manifest;
  return {
    full: {
      seconds: +fullS.toFixed(1),
      documents: m.documents.train + m.documents.validation,
      tokens: m.tokens.train + m.tokens.validation,
      filesRead: full.filesRead,
    },
    rebuildUnchanged: {
      seconds: +sameS.toFixed(2),
      filesRead: same.filesRead,
      tokenized: same.documentsTokenized,
    },
    rebuildAfterEditing3: {
      seconds: +threeS.toFixed(2),
      filesRead: three.filesRead,
      tokenized: three.documentsTokenized,
    },
    peakRssMB: rssMB(),
  };
}

// ---------- driver ----------

function child(stage: string, extra: string[]): unknown {
  const r = spawnSync(process.execPath, ['--import', 'tsx', process.argv[1], '--stage', stage, ...extra], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 26,
    env: { ...process.env, ...WORKER_ENV },
  });
  if (r.status !== 0) throw new Error(`stage ${stage} failed (${r.status})`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

async function main(): Promise<void> {
  if (args.stage) {
    const dir = args.dir!;
    const out =
      args.stage === 'prepare'
        ? await stagePrepare(dir, Number(args.workers ?? 0))
        : args.stage === 'tokenize'
          ? await stageTokenize(dir, args.model!, Number(args['tokenize-mb']))
          : await stageBuild(
              dir,
              args.model!,
              join(args.model!, '..', 'out'),
              args['build-files'] ? JSON.parse(args['build-files']) : undefined,
            );
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }
  const files = Number(args.files);
  const mb = Number(args.mb);
  const loadBefore = loadavg().map((x) => +x.toFixed(2));
  const work = mkdtempSync(join(tmpdir(), 'localtune-bench-data-'));
  const dir = args.dir ?? join(work, 'ws');
  generate(dir, files, mb);
  const modelDir = join(work, 'model');
  writeGpt2TokenizerFiles(modelDir);
  const common = ['--dir', dir, '--model', modelDir];
  const workers = Number(args.workers ?? Math.max(defaultWorkers(), 1));
  log('prepare (scan + filter + scrub + dedup), in one thread');
  const prepare1 = child('prepare', [...common, '--workers', '0']) as { seconds: number };
  log(`prepare with ${workers} worker threads`);
  const prepareN = child('prepare', [...common, '--workers', String(workers)]) as { seconds: number };
  const prepare = {
    oneThread: prepare1,
    workers: prepareN,
    speedup: +(prepare1.seconds / prepareN.seconds).toFixed(2),
  };
  log('tokenize (pipeline vs naive)');
  const tokenize = child('tokenize', [...common, '--tokenize-mb', String(args['tokenize-mb'])]);
  let build: unknown = null;
  if (!args['no-build']) {
    // --build-files N: the build covers the first N files' packages (500 files each).
    const n = args['build-files'] ? Number(args['build-files']) : files;
    const include = n < files ? Array.from({ length: Math.ceil(n / 500) }, (_, i) => `/pkg${i}/`) : undefined;
    log(`build (full, then rebuilds) over ${include ? `${include.length} packages` : 'everything'}`);
    build = child('build', [...common, ...(include ? ['--build-files', JSON.stringify(include)] : [])]);
  }
  rmSync(join(work, 'out'), { recursive: true, force: true });
  if (!args.dir) rmSync(work, { recursive: true, force: true });
  process.stdout.write(
    JSON.stringify(
      {
        workspace: { files, targetMB: mb },
        node: process.version,
        loadAverage: { before: loadBefore, after: loadavg().map((x) => +x.toFixed(2)) },
        prepare,
        tokenize,
        build,
      },
      null,
      2,
    ) + '\n',
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
