/**
 * Weight names as transformers resolves them. Families ask for weights by the names
 * `save_pretrained` writes for the causal-LM class (`transformer.h.0.attn.c_attn.weight`,
 * `model.layers.0.self_attn.q_proj.weight`, `lm_head.weight`); a checkpoint saved from the base
 * model (the official `openai-community/gpt2` file) stores the same tensors without the base-model
 * prefix. As in transformers' `_load_pretrained_model`, the decision is per file: when no tensor
 * starts with the prefix, every name under the prefix is looked up without it. Buffers some
 * checkpoints carry (GPT-2's causal masks, rotary `inv_freq`) are never asked for, and are listed
 * so a folder check can tell them from tensors it does not know.
 */
import type { ModelWeights } from '../formats/weights';

export interface WeightNaming {
  /** The base model's attribute name, with its dot: `transformer.` (GPT-2, GPTBigCode), `model.`. */
  basePrefix: string;
  /** Buffers a checkpoint may hold that the model never reads (`h.0.attn.bias`, `…inv_freq`). */
  ignored: readonly RegExp[];
}

export interface ResolvedWeights extends ModelWeights {
  /** The name in the file that a save_pretrained name resolves to, or undefined when absent. */
  fileName(name: string): string | undefined;
  /** The names as the file stores them. */
  storedNames(): string[];
  /** Whether a tensor the file holds is a buffer the model never reads. */
  isIgnored(fileName: string): boolean;
  /** Whether the file stores the base-model prefix (false: the base model's own checkpoint). */
  readonly prefixed: boolean;
}

/** `weights` read under save_pretrained names, whichever of the two layouts the file uses. */
export function resolveWeights(weights: ModelWeights, naming: WeightNaming): ResolvedWeights {
  const { basePrefix } = naming;
  const stored = weights.names();
  const prefixed = stored.some((n) => n.startsWith(basePrefix));
  /** Where a save_pretrained name would sit in this file (whether or not it is there). */
  const inFile = (name: string) =>
    !prefixed && name.startsWith(basePrefix) ? name.slice(basePrefix.length) : name;
  const fileName = (name: string) => (weights.header(inFile(name)) ? inFile(name) : undefined);
  const isIgnored = (n: string) => naming.ignored.some((re) => re.test(n));
  return {
    prefixed,
    fileName,
    storedNames: () => stored,
    isIgnored,
    // An absent name reaches the reader as the file would spell it, so its error lists the file's.
    read: (name) => weights.read(inFile(name)),
    header: (name) => weights.header(inFile(name)),
    // save_pretrained names: what a full fine-tune writes back.
    names: () =>
      stored
        .filter((n) => !isIgnored(n))
        .map((n) => (prefixed || n.startsWith('lm_head.') ? n : basePrefix + n)),
    close: () => weights.close(),
  };
}
