/**
 * Inference speed beside the peers, in one run (prints one JSON document; never fails on a time):
 * gpt2-small and tiny GPT-2 shapes (random weights, seed 1), a 256-token prompt (tiny: its context
 * less 32) + 16 and 32 greedy tokens: time to first token and decode tokens/s for our decoder in
 * fp32 and int8, llama.cpp through node-llama-cpp on GGUF files written from the same weights
 * (f32 and q8_0; bench/peers/gguf.ts) and the PyTorch peer (bench/peers/generate_gpt2.py), back
 * to back, medians over --reps; greedy tokens compared before timing means anything. Then end to
 * end through the completion worker (gpt2-small int8, 2 threads): p50/p95 from request to result
 * for a single-line completion on a prompt-cache hit (one character typed) and a miss.
 *   npx tsx bench/complete.ts [--shape small|tiny|both] [--reps N] [--worker-reps N] [--no-peers]
 *     [--worker-only] (the completion worker's part alone)
 * llama.cpp's peer installs itself on first run: npm install --ignore-scripts in bench/peers/llamacpp.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { Decoder } from '../src/engine/generate/decoder';
import { GPT2_SMALL, TINY_GPT2, writeGpt2Model } from '../fixtures/tinyModel';
import { loadModel } from '../src/engine/models';
import { Rng } from '../src/engine/rng';
import { CompletionClient } from '../src/jobs/completionClient';
import { WORKER_ENV } from '../src/jobs/fork';
import { writeGpt2Gguf } from './peers/gguf';

const root = resolve(__dirname, '..');
const peers = join(root, 'bench', 'peers');
const cache = join(root, '.cache', 'bench-complete');
const arg = (f: string) => {
  const i = process.argv.indexOf(f);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const shapes = (arg('--shape') ?? 'both') === 'both' ? ['tiny', 'small'] : [arg('--shape')!];
const reps = Number(arg('--reps') ?? 3);
const workerReps = Number(arg('--worker-reps') ?? 12);
const workerOnly = process.argv.includes('--worker-only');
const withPeers = !process.argv.includes('--no-peers') && !workerOnly;
const load = () => +loadavg()[0].toFixed(2);

interface Run {
  firstTokenMs: number;
  decodeTokensPerSecond: number;
  tokens: number[];
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
function summary(runs: Run[], loadBefore: number) {
  return {
    firstTokenMs: +median(runs.map((r) => r.firstTokenMs)).toFixed(1),
    decodeTokensPerSecond: +median(runs.map((r) => r.decodeTokensPerSecond)).toFixed(1),
    firstTokenMsAll: runs.map((r) => +r.firstTokenMs.toFixed(1)),
    decodeAll: runs.map((r) => +r.decodeTokensPerSecond.toFixed(1)),
    loadavg: [loadBefore, load()],
  };
}
function lastJson<T>(out: string): T {
  const lines = out.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as T;
}

function ensureLlamaCpp(): void {
  const dir = join(peers, 'llamacpp');
  if (existsSync(join(dir, 'node_modules', 'node-llama-cpp'))) return;
  process.stderr.write('installing the llama.cpp peer (node-llama-cpp, npm, --ignore-scripts)…\n');
  const r = spawnSync('npm', ['install', '--ignore-scripts', '--omit=optional', '--no-audit', '--no-fund'], {
    cwd: dir,
    stdio: 'inherit',
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', NODE_LLAMA_CPP_SKIP_DOWNLOAD: 'true' },
  });
  if (r.status !== 0) throw new Error('npm install in bench/peers/llamacpp failed');
}

function llamaCpp(gguf: string, promptFile: string, n: number): Run[] {
  const r = spawnSync(
    process.execPath,
    [join(peers, 'llamacpp', 'run.mjs'), gguf, promptFile, String(n), String(reps), '2'],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  if (r.status !== 0) throw new Error(`llama.cpp peer failed: ${r.stderr.slice(-2000)}`);
  return lastJson<{ runs: Run[] }>(r.stdout).runs;
}

function pytorch(modelDir: string, promptFile: string, n: number): Run[] {
  const r = spawnSync(
    join(peers, 'run_generate.sh'),
    ['--model', modelDir, '--prompt', promptFile, '--new', String(n), '--reps', String(reps)],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  if (r.status !== 0) throw new Error(`PyTorch peer failed: ${r.stderr.slice(-2000)}`);
  return lastJson<{ runs: Run[] }>(r.stdout).runs;
}

async function ours(decoder: Decoder, prompt: number[], n: number): Promise<Run[]> {
  await decoder.generate(prompt, { maxTokens: 2, promptCache: false }); // first-run setup
  const runs: Run[] = [];
  for (let r = 0; r < reps; r++) {
    const tokens: number[] = [];
    const res = await decoder.generate(prompt, {
      maxTokens: n,
      promptCache: false,
      onToken: (t) => tokens.push(t),
    });
    runs.push({ firstTokenMs: res.firstTokenMs, decodeTokensPerSecond: res.decodeTokensPerSecond, tokens });
  }
  return runs;
}

const agree = (a: number[], b: number[]) => {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
};

async function shapeBench(name: string) {
  const shape = name === 'small' ? GPT2_SMALL : TINY_GPT2;
  const modelDir = join(cache, name);
  if (!existsSync(join(modelDir, 'model.safetensors'))) await writeGpt2Model(modelDir, shape, 1);
  const ggufs = { f32: join(cache, `${name}-f32.gguf`), q8_0: join(cache, `${name}-q8_0.gguf`) };
  if (withPeers)
    for (const [t, f] of Object.entries(ggufs))
      if (!existsSync(f)) writeGpt2Gguf(modelDir, f, t as 'f32' | 'q8_0');
  const promptLength = Math.min(256, shape.nPositions - 32);
  const rng = new Rng(7);
  const prompt = Array.from({ length: promptLength }, () => rng.nextInt(50257));
  const promptFile = join(cache, `${name}-prompt.json`);
  writeFileSync(promptFile, JSON.stringify(prompt));
  const model = loadModel(modelDir);
  const fp32 = await Decoder.fromModel(model, { dtype: 'fp32', threads: 2 });
  const int8 = await Decoder.fromModel(model, { dtype: 'int8', threads: 2 });
  model.weights.close();
  const results = [];
  for (const n of [16, 32]) {
    const l0 = load();
    const row: Record<string, unknown> = { shape: name, promptTokens: promptLength, newTokens: n };
    const o32 = await ours(fp32, prompt, n);
    row.oursFp32 = summary(o32, l0);
    const o8 = await ours(int8, prompt, n);
    row.oursInt8 = summary(o8, l0);
    if (withPeers) {
      const pt = pytorch(modelDir, promptFile, n);
      row.pytorch = summary(pt, l0);
      const lf = llamaCpp(ggufs.f32, promptFile, n);
      row.llamaF32 = summary(lf, l0);
      const lq = llamaCpp(ggufs.q8_0, promptFile, n);
      row.llamaQ8_0 = summary(lq, l0);
      row.greedyAgreement = {
        note: 'leading greedy tokens equal to our fp32 run, of newTokens',
        pytorch: agree(o32[0].tokens, pt[0].tokens),
        llamaF32: agree(o32[0].tokens, lf[0].tokens),
        oursInt8: agree(o32[0].tokens, o8[0].tokens),
        llamaQ8_0: agree(o32[0].tokens, lq[0].tokens),
      };
      const s = (k: string) => row[k] as ReturnType<typeof summary>;
      row.targets = {
        fp32FirstTokenVsPytorch: +(s('oursFp32').firstTokenMs / s('pytorch').firstTokenMs).toFixed(2),
        int8FirstTokenVsLlamaQ8: +(s('oursInt8').firstTokenMs / s('llamaQ8_0').firstTokenMs).toFixed(2),
        int8DecodeVsLlamaQ8: +(
          s('oursInt8').decodeTokensPerSecond / s('llamaQ8_0').decodeTokensPerSecond
        ).toFixed(2),
        met: {
          fp32FirstToken: s('oursFp32').firstTokenMs <= s('pytorch').firstTokenMs,
          int8FirstToken: s('oursInt8').firstTokenMs <= s('llamaQ8_0').firstTokenMs,
          int8Decode: s('oursInt8').decodeTokensPerSecond >= s('llamaQ8_0').decodeTokensPerSecond,
        },
      };
    }
    results.push(row);
  }
  return results;
}

/** A source file of about `lines` lines, deterministic for a seed. */
function sourceText(seed: number, lines: number): string {
  const rng = new Rng(seed);
  const names = ['total', 'count', 'value', 'items', 'result', 'index', 'buffer', 'offset', 'limit', 'name'];
  const pick = () => names[rng.nextInt(names.length)];
  const out: string[] = [];
  for (let i = 0; i < lines; i++)
    out.push(
      i % 6 === 0
        ? `function ${pick()}_${i}(${pick()}, ${pick()}) {`
        : i % 6 === 5
          ? '}'
          : `  const ${pick()}${i} = ${pick()} + ${rng.nextInt(100)} * ${pick()}.length;`,
    );
  return out.join('\n') + '\n';
}

async function workerBench() {
  const modelDir = join(cache, 'small');
  if (!existsSync(join(modelDir, 'model.safetensors'))) await writeGpt2Model(modelDir, GPT2_SMALL, 1);
  const started = performance.now();
  const client = await CompletionClient.start({
    workerPath: join(root, 'src', 'jobs', 'workers', 'complete.ts'),
    model: { modelDir },
    dtype: 'int8',
  });
  const startMs = performance.now() - started;
  const base = sourceText(3, 34); // ≈ 256+ GPT-2 tokens
  const hit: number[] = [];
  const miss: number[] = [];
  const detail = {
    hitReused: [] as number[],
    missReused: [] as number[],
    promptTokens: 0,
    tokens: [] as number[],
  };
  const request = (prefix: string) => ({
    prefix,
    suffix: '\n',
    languageId: 'javascript',
    maxTokens: 8,
    multiline: 'single' as const,
  });
  try {
    const l0 = load();
    for (let i = 0; i < workerReps; i++) {
      // A miss: a file the cache has not seen (its first line differs).
      let prefix = `// file ${i}\n${base}  const x = `;
      let t = performance.now();
      let r = await client.complete(request(prefix));
      miss.push(performance.now() - t);
      detail.missReused.push(r!.reusedTokens);
      detail.promptTokens = r!.promptTokens;
      // A hit: one more character typed at the cursor.
      prefix += String.fromCharCode(97 + (i % 26));
      t = performance.now();
      r = await client.complete(request(prefix));
      hit.push(performance.now() - t);
      detail.hitReused.push(r!.reusedTokens);
      detail.tokens.push(r!.promptTokens);
    }
    const f = (xs: number[]) => ({
      p50: +pct(xs, 0.5).toFixed(1),
      p95: +pct(xs, 0.95).toFixed(1),
      all: xs.map((x) => +x.toFixed(1)),
    });
    const h = f(hit);
    const m = f(miss);
    return {
      model: 'gpt2-small int8, 2 threads (worker default)',
      maxTokens: 8,
      workerStartMs: +startMs.toFixed(0),
      promptTokens: detail.promptTokens,
      hit: { ...h, reusedTokens: median(detail.hitReused) },
      miss: { ...m, reusedTokens: median(detail.missReused) },
      targets: { hitP50Le150: h.p50 <= 150, missP50Le400: m.p50 <= 400 },
      loadavg: [l0, load()],
    };
  } finally {
    client.dispose();
  }
}

async function main() {
  mkdirSync(cache, { recursive: true });
  // Ours runs in this process: keep glibc from returning freed memory, as the workers do.
  if (process.env.MALLOC_MMAP_MAX_ !== WORKER_ENV.MALLOC_MMAP_MAX_) {
    const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, ...WORKER_ENV },
    });
    process.exit(r.status ?? 1);
  }
  if (withPeers) ensureLlamaCpp();
  const machine = {
    cpus: cpus().length,
    model: cpus()[0]?.model,
    loadavgStart: loadavg().map((x) => +x.toFixed(2)),
  };
  const runs = [];
  if (!workerOnly) for (const s of shapes) runs.push(...(await shapeBench(s)));
  const worker = workerOnly || shapes.includes('small') ? await workerBench() : undefined;
  process.stdout.write(JSON.stringify({ machine, reps, runs, worker, loadavgEnd: load() }, null, 2) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
