// The FMA peak the benchmarks divide by (bench/ceiling/fma_peak.c) counts ten FMAs an iteration:
// the compiled loop must hold ten. When its accumulators started equal, gcc merged them into one
// chain and kept a single FMA, so the "peak" was a latency-bound rate times ten: 575 GFLOP/s on
// two Zen 5 cores and 583 on two Zen 4 cores, where the fixed loop measures 233.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FMA_SOURCE } from '../../bench/ceiling/fmaPeak';

const skip =
  process.arch !== 'x64'
    ? 'fma_peak.c is x86 code'
    : spawnSync('gcc', ['--version']).status !== 0 && 'no gcc here';

test('the FMA loop keeps its ten independent FMAs when compiled', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'lt-fma-test-'));
  try {
    for (const march of ['-march=x86-64-v3', '-march=native']) {
      const asm = join(dir, 'fma.s');
      const cc = spawnSync('gcc', ['-O3', march, '-fopenmp', '-S', FMA_SOURCE, '-o', asm], {
        encoding: 'utf8',
      });
      assert.equal(cc.status, 0, cc.stderr);
      const fmas = readFileSync(asm, 'utf8').match(/\bvfmadd\w*/g) ?? [];
      assert.equal(fmas.length, 10, `${march}: ${fmas.length} FMA instructions in the compiled loop`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
