/**
 * Debian's PyTorch (docs/peers.md) runs the independent references (hf_reference.py and the
 * optimizer-step reference). In CI (CI=true) a missing PyTorch is a failure, not a skip: the tests
 * run and fail on it. Locally they skip, and say so loudly once.
 */
import { execFileSync, spawnSync } from 'node:child_process';

export const PYTHON = '/usr/bin/python3';
/** OpenBLAS's core-type override (set on some machines) slows numpy down; the references don't need it. */
export const TORCH_ENV = { ...process.env, OPENBLAS_CORETYPE: '' };

let available: boolean | undefined;

/** `false` when the reference tests should run; the skip reason otherwise. */
export function torchSkip(): false | string {
  available ??= spawnSync(PYTHON, ['-c', 'import torch'], { env: TORCH_ENV }).status === 0;
  if (available || process.env.CI) return false;
  process.stderr.write(
    '\n*** PyTorch reference missing: parity tests SKIPPED (bench/peers/setup.sh installs it) ***\n\n',
  );
  return 'no python3-torch (bench/peers/setup.sh installs it)';
}

/** Runs a reference script and parses the JSON it prints. */
export function runReference<T>(script: string, args: string[]): T {
  return JSON.parse(
    execFileSync(PYTHON, [script, ...args], { env: TORCH_ENV, encoding: 'utf8', maxBuffer: 1 << 28 }),
  ) as T;
}
