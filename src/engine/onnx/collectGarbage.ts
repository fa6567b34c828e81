/**
 * A full garbage collection, on demand. A training graph's weights live twice in JavaScript while
 * its session is created (the graph's initializers and the serialized model); once onnxruntime
 * holds its own copy they are garbage, but V8 sees no reason to collect them: the step's memory
 * is allocated natively. Collected, their pages go back to malloc for the step's activations
 * (gpt2-small LoRA: peak RSS 3.8 → 2.9 GB). Node exposes `gc` only behind a flag; the flag can
 * be set at run time and the function taken from a fresh context.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

export function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}
