/**
 * Inference speed beside the peers, in one run (prints one JSON document; never fails on a time):
 * gpt2-small and tiny GPT-2 shapes and SmolLM2-135M's Llama shape (random weights, seed 1), a
 * 256-token prompt (tiny: its context less 32) + 16 and 32 greedy tokens: time to first token and
 * decode tokens/s for our decoder in fp32 and int8, llama.cpp through node-llama-cpp on GGUF files
 * written from the same weights (f32 and q8_0; bench/peers/gguf.ts) and, for GPT-2, the PyTorch
 * peer (bench/peers/generate_gpt2.py), back to back, medians over --reps; greedy tokens compared
 * before timing means anything. Then end to end through the completion worker (int8, 2 threads;
 * gpt2-small and SmolLM2): p50/p95 from request to result for a single-line completion on a
 * prompt-cache hit (one character typed) and a miss.
 *   npx tsx bench/complete.ts [--shape all|tiny,small,smollm,tiny-llama] [--reps N] [--worker-reps N]
 *     [--no-peers] [--worker-only] (the completion worker's part alone)
 * tiny-llama (not in `all`): the Llama path at 2 layers, a smoke check of the code, not a figure.
 * llama.cpp's peer installs itself on first run: npm install --ignore-scripts in bench/peers/llamacpp.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { Decoder } from '../src/engine/generate/decoder';
import { hubModel, writeHubModel } from '../fixtures/hubModels';
import { GPT2_SMALL, TINY_GPT2, writeGpt2Model, type Gpt2Shape } from '../fixtures/tinyModel';
import { loadModel } from '../src/engine/models';
import { Rng } from '../src/engine/rng';
import { CompletionClient } from '../src/jobs/completionClient';
import { WORKER_ENV } from '../src/jobs/fork';
import { writeGpt2Gguf, writeLlamaGguf } from './peers/gguf';
import { CPUINFO, cpuIsa } from './trainShapes';
import { ensureLlamaCpp, runLlamaCpp, type PeerRun } from './peers/llamaCppPeer';

const root = resolve(__dirname, '..');
const peers = join(root, 'bench', 'peers');
const cache = join(root, '.cache', 'bench-complete');
const arg = (f: string) => {
  const i = process.argv.indexOf(f);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

interface Shape {
  label: string;
  /** Writes the model folder (random weights, seed 1). */
  write(dir: string): Promise<void> | void;
  gguf: typeof writeGpt2Gguf;
  contextLength: number;
  /** A prompt token: any id but the special ones (SmolLM2 keeps 0–16 for them). */
  promptToken(rng: Rng): number;
  /** Whether bench/peers/generate_gpt2.py runs this model (GPT-2 only). */
  pytorch: boolean;
  /** Whether the completion worker's part runs at this shape. */
  worker: boolean;
}
/** A GPT-2 shape: fixtures/tinyModel.ts' writer, any of its 50257 ids in the prompt. */
const gpt2 = (label: string, shape: Gpt2Shape, worker: boolean): Shape => ({
  label,
  write: (dir) => writeGpt2Model(dir, shape, 1),
  gguf: writeGpt2Gguf,
  contextLength: shape.nPositions,
  promptToken: (rng) => rng.nextInt(50257),
  pytorch: true,
  worker,
});
/**
 * A Llama shape in SmolLM2-135M's layout: its recorded config.json with `sizes` replaced (none:
 * the real one) and its tokenizer.json (fixtures/hubModels.ts), random bf16 weights (the real
 * checkpoint's dtype) at std 1/√hidden, SmolLM2's own initializer_range (1/√576): at the
 * fixture's wide default (0.2) 30 layers are chaotic enough that int8 and q8_0 leave the fp32
 * tokens at the first one. Prompt ids above its 17 special tokens.
 */
const smollm2 = (label: string, sizes: Record<string, number>): Shape => {
  const m = hubModel('HuggingFaceTB/SmolLM2-135M');
  const std = 1 / Math.sqrt(sizes.hidden_size ?? 576);
  return {
    label,
    write: (dir) => writeHubModel(dir, { ...m, tiny: sizes }, 1, { linear: std, embedding: std }),
    gguf: writeLlamaGguf,
    contextLength: 8192,
    promptToken: (rng) => 17 + rng.nextInt(49152 - 17),
    pytorch: false,
    worker: true,
  };
};
const SHAPES: Record<string, Shape> = {
  tiny: gpt2('tiny GPT-2', TINY_GPT2, false),
  small: gpt2('gpt2-small', GPT2_SMALL, true),
  // 30 layers, hidden 576, 9 heads / 3 KV heads, intermediate 1536, vocab 49152, tied embeddings,
  // rope_theta 100000, rms_norm_eps 1e-5.
  smollm: smollm2('SmolLM2-135M shape', {}),
  'tiny-llama': smollm2('SmolLM2 layout at 2 layers, hidden 64 (smoke check)', {
    ...hubModel('HuggingFaceTB/SmolLM2-135M').tiny,
    hidden_size: 64,
    head_dim: 16,
    intermediate_size: 128,
  }),
};
const shapeArg = arg('--shape') ?? 'all';
const shapes = shapeArg === 'all' ? ['tiny', 'small', 'smollm'] : shapeArg.split(',');
for (const s of shapes)
  if (!SHAPES[s]) throw new Error(`--shape ${s}: one of ${Object.keys(SHAPES).join(', ')} or all`);
const reps = Number(arg('--reps') ?? 3);
const workerReps = Number(arg('--worker-reps') ?? 12);
const workerOnly = process.argv.includes('--worker-only');
const withPeers = !process.argv.includes('--no-peers') && !workerOnly;
const load = () => +loadavg()[0].toFixed(2);

type Run = PeerRun;
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

// The f32 file runs exact (no flash attention, f32 KV cache: the reference for greedy agreement);
// q8_0, the speed target, runs with llama.cpp's own defaults.
const llamaCpp = (gguf: string, promptFile: string, n: number, precision: 'default' | 'exact') =>
  runLlamaCpp(gguf, promptFile, n, reps, 2, precision);

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

/** The shape's model folder under the cache, written on first use. */
async function modelFolder(name: string): Promise<string> {
  const modelDir = join(cache, name);
  if (!existsSync(join(modelDir, 'model.safetensors'))) await SHAPES[name].write(modelDir);
  return modelDir;
}

async function shapeBench(name: string) {
  const shape = SHAPES[name];
  const modelDir = await modelFolder(name);
  const ggufs = { f32: join(cache, `${name}-f32.gguf`), q8_0: join(cache, `${name}-q8_0.gguf`) };
  if (withPeers)
    for (const [t, f] of Object.entries(ggufs))
      if (!existsSync(f)) shape.gguf(modelDir, f, t as 'f32' | 'q8_0');
  const promptLength = Math.min(256, shape.contextLength - 32);
  const rng = new Rng(7);
  const prompt = Array.from({ length: promptLength }, () => shape.promptToken(rng));
  const promptFile = join(cache, `${name}-prompt.json`);
  writeFileSync(promptFile, JSON.stringify(prompt));
  const model = loadModel(modelDir);
  const fp32 = await Decoder.fromModel(model, { dtype: 'fp32', threads: 2 });
  const int8 = await Decoder.fromModel(model, { dtype: 'int8', threads: 2 });
  model.weights.close();
  const results = [];
  for (const n of [16, 32]) {
    const l0 = load();
    const row: Record<string, unknown> = {
      shape: name,
      model: shape.label,
      promptTokens: promptLength,
      newTokens: n,
    };
    const o32 = await ours(fp32, prompt, n);
    row.oursFp32 = summary(o32, l0);
    const o8 = await ours(int8, prompt, n);
    row.oursInt8 = summary(o8, l0);
    if (withPeers) {
      const pt = shape.pytorch ? pytorch(modelDir, promptFile, n) : undefined;
      row.pytorch = pt
        ? summary(pt, l0)
        : 'not run: the PyTorch peer (bench/peers/generate_gpt2.py) implements GPT-2 only';
      const lf = llamaCpp(ggufs.f32, promptFile, n, 'exact');
      row.llamaF32 = summary(lf, l0);
      const lq = llamaCpp(ggufs.q8_0, promptFile, n, 'default');
      row.llamaQ8_0 = summary(lq, l0);
      row.llamaSettings = {
        f32: 'exact: no flash attention, f32 KV cache (the greedy-agreement reference)',
        q8_0: "llama.cpp's defaults: flash attention where it chooses, f16 KV cache",
      };
      row.greedyAgreement = {
        note: 'leading greedy tokens equal to our fp32 run, of newTokens',
        ...(pt ? { pytorch: agree(o32[0].tokens, pt[0].tokens) } : {}),
        llamaF32: agree(o32[0].tokens, lf[0].tokens),
        oursInt8: agree(o32[0].tokens, o8[0].tokens),
        llamaQ8_0: agree(o32[0].tokens, lq[0].tokens),
        llamaQ8_0VsOursInt8: agree(o8[0].tokens, lq[0].tokens),
      };
      const s = (k: string) => row[k] as ReturnType<typeof summary>;
      row.targets = {
        ...(pt
          ? { fp32FirstTokenVsPytorch: +(s('oursFp32').firstTokenMs / s('pytorch').firstTokenMs).toFixed(2) }
          : {}),
        int8FirstTokenVsLlamaQ8: +(s('oursInt8').firstTokenMs / s('llamaQ8_0').firstTokenMs).toFixed(2),
        int8DecodeVsLlamaQ8: +(
          s('oursInt8').decodeTokensPerSecond / s('llamaQ8_0').decodeTokensPerSecond
        ).toFixed(2),
        met: {
          ...(pt ? { fp32FirstToken: s('oursFp32').firstTokenMs <= s('pytorch').firstTokenMs } : {}),
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

async function workerBench(name: string) {
  const modelDir = await modelFolder(name);
  const started = performance.now();
  const client = await CompletionClient.start({
    workerPath: join(root, 'src', 'jobs', 'workers', 'complete.ts'),
    model: { modelDir },
    dtype: 'int8',
  });
  const startMs = performance.now() - started;
  const base = sourceText(3, 34); // ≈ 256+ tokens (GPT-2's or SmolLM2's vocabulary)
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
      shape: name,
      model: `${SHAPES[name].label} int8, 2 threads (worker default)`,
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
  // Ours runs in this process: start it as the workers start (glibc keeps freed memory, huge pages).
  if (Object.entries(WORKER_ENV).some(([k, v]) => process.env[k] !== v)) {
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
    cpuId: CPUINFO ? cpuIsa(CPUINFO).id : null,
    loadavgStart: loadavg().map((x) => +x.toFixed(2)),
  };
  const runs = [];
  if (!workerOnly) for (const s of shapes) runs.push(...(await shapeBench(s)));
  const workerShapes = shapes.filter((s) => SHAPES[s].worker);
  const worker = [];
  for (const s of workerOnly && !workerShapes.length ? ['small'] : workerShapes)
    worker.push(await workerBench(s));
  process.stdout.write(JSON.stringify({ machine, reps, runs, worker, loadavgEnd: load() }, null, 2) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
