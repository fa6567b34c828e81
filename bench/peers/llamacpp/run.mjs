// The llama.cpp peer: node-llama-cpp (prebuilt CPU binaries from npm, never built or downloaded
// at run time) on a GGUF file. Prompt token ids in, greedy tokens out, timed like our decoder:
// time to first token from the call, decode tokens/s after the first.
// Usage: node run.mjs MODEL.gguf PROMPT_IDS_JSON NEW_TOKENS REPS THREADS [PRECISION] → one JSON
// line on stdout. PRECISION: default (llama.cpp's own settings: flash attention where it chooses,
// an f16 KV cache) or exact (no flash attention, an f32 KV cache: both round K, V and the attention
// sums through f16 on the CPU, which flips near ties against an fp32 decoder).
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { getLlama, LlamaLogLevel } from 'node-llama-cpp';

const [modelPath, promptFile, newTokens, reps, threads, precision = 'default'] = process.argv.slice(2);
const exact = precision === 'exact';
const prompt = JSON.parse(readFileSync(promptFile, 'utf8'));
const llama = await getLlama({
  gpu: false,
  build: 'never',
  usePrebuiltBinaries: true,
  logLevel: LlamaLogLevel.error,
  progressLogs: false,
});
const model = await llama.loadModel({ modelPath, gpuLayers: 0, useMmap: true });
const context = await model.createContext({
  contextSize: Math.min(1024, prompt.length + 64),
  batchSize: 512,
  threads: Number(threads),
  sequences: 1,
  ...(exact
    ? { flashAttention: false, experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32' }
    : {}),
});
const seq = context.getSequence();
const runs = [];
for (let r = 0; r < Number(reps) + 1; r++) {
  await seq.clearHistory();
  const tokens = [];
  const t0 = performance.now();
  let first = NaN;
  for await (const t of seq.evaluate(prompt, { temperature: 0 })) {
    if (tokens.length === 0) first = performance.now();
    tokens.push(t);
    if (tokens.length >= Number(newTokens)) break;
  }
  const end = performance.now();
  if (r > 0)
    runs.push({
      firstTokenMs: first - t0,
      decodeTokensPerSecond: (tokens.length - 1) / ((end - first) / 1000),
      tokens,
    });
}
process.stdout.write(JSON.stringify({ runs, loadavg: loadavg()[0] }) + '\n');
await context.dispose();
await model.dispose();
