/**
 * The machine's fp32 FMA peak, measured: fma_peak.c built with gcc (-march=native) and run on
 * 2 threads (about 1.5 s). A figure to divide GFLOP/s by where no documented peak fits the CPU
 * (a VM's model name rarely says which generation it is). Null, with the reason, without gcc.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type FmaPeak = { gflop_s: number; vector_bits: number; threads: number } | { error: string };

export const FMA_SOURCE = join(__dirname, 'fma_peak.c');

export function measureFmaPeak(threads = 2): FmaPeak {
  const dir = mkdtempSync(join(tmpdir(), 'lt-fma-'));
  try {
    const exe = join(dir, 'fma_peak');
    const cc = spawnSync('gcc', ['-O3', '-march=native', '-fopenmp', FMA_SOURCE, '-o', exe], {
      encoding: 'utf8',
    });
    if (cc.status !== 0)
      return { error: `gcc failed or missing: ${(cc.stderr ?? String(cc.error)).trim().slice(-300)}` };
    const run = spawnSync(exe, [], {
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: String(threads) },
    });
    const r = JSON.parse(run.stdout.trim()) as {
      fma_peak_gflop_s: number;
      vector_bits: number;
      threads: number;
    };
    return { gflop_s: r.fma_peak_gflop_s, vector_bits: r.vector_bits, threads: r.threads };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
