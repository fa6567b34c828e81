/**
 * LoRA as PEFT defines it: y = x·W + b + (α/r)·(x·Aᵀ)·Bᵀ with A [r, in] Kaiming-uniform and
 * B [out, r] zeros, on modules chosen by name. `use_rslora` scales by α/√r instead.
 */
import type { LoraSettings } from '../formats/peft';
import { Rng } from '../rng';

export function loraScale(s: LoraSettings): number {
  return s.rslora ? s.alpha / Math.sqrt(s.r) : s.alpha / s.r;
}

/** True when `modulePath` (e.g. transformer.h.0.attn.c_attn) is a LoRA target. */
export function isLoraTarget(s: LoraSettings, modulePath: string): boolean {
  const name = modulePath.slice(modulePath.lastIndexOf('.') + 1);
  return s.targets.includes(name) || s.targets.includes(modulePath);
}

/** PEFT's init: kaiming_uniform_(A, a=√5) → U(−1/√in, 1/√in); B = 0. */
export function initLora(rng: Rng, r: number, inFeatures: number, outFeatures: number) {
  const bound = 1 / Math.sqrt(inFeatures);
  const a = new Float32Array(r * inFeatures);
  for (let i = 0; i < a.length; i++) a[i] = (rng.next() * 2 - 1) * bound;
  return { a, b: new Float32Array(outFeatures * r) };
}
