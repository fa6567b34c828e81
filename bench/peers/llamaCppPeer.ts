/**
 * The llama.cpp peer from TypeScript: whether it is installed, its install (npm, --ignore-scripts,
 * prebuilt binaries only), and one run of bench/peers/llamacpp/run.mjs on a GGUF file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const LLAMACPP_DIR = join(__dirname, 'llamacpp');

export interface PeerRun {
  firstTokenMs: number;
  decodeTokensPerSecond: number;
  tokens: number[];
}

export const llamaCppInstalled = () => existsSync(join(LLAMACPP_DIR, 'node_modules', 'node-llama-cpp'));

export function ensureLlamaCpp(): void {
  if (llamaCppInstalled()) return;
  process.stderr.write('installing the llama.cpp peer (node-llama-cpp, npm, --ignore-scripts)…\n');
  const r = spawnSync('npm', ['install', '--ignore-scripts', '--omit=optional', '--no-audit', '--no-fund'], {
    cwd: LLAMACPP_DIR,
    stdio: ['ignore', process.stderr, process.stderr], // stdout is the benchmark's JSON
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', NODE_LLAMA_CPP_SKIP_DOWNLOAD: 'true' },
  });
  if (r.status !== 0) throw new Error('npm install in bench/peers/llamacpp failed');
}

/**
 * Greedy runs of `newTokens` after the prompt (ids in a JSON file), after one untimed warm-up;
 * `exact`: no flash attention and an f32 KV cache, so that an f32 model's tokens follow an fp32
 * decoder's through near ties (bench/peers/llamacpp/run.mjs); else llama.cpp's own defaults.
 */
export function runLlamaCpp(
  gguf: string,
  promptFile: string,
  newTokens: number,
  reps: number,
  threads = 2,
  precision: 'default' | 'exact' = 'default',
): PeerRun[] {
  const r = spawnSync(
    process.execPath,
    [
      join(LLAMACPP_DIR, 'run.mjs'),
      gguf,
      promptFile,
      String(newTokens),
      String(reps),
      String(threads),
      precision,
    ],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  if (r.status !== 0) throw new Error(`llama.cpp peer failed: ${r.stderr.slice(-2000)}`);
  const lines = r.stdout.trim().split('\n');
  return (JSON.parse(lines[lines.length - 1]) as { runs: PeerRun[] }).runs;
}
