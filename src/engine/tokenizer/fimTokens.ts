/**
 * A model's fill-in-the-middle markers, found in its tokenizer: StarCoder spells them
 * `<fim_prefix>`, Qwen2.5-Coder `<|fim_prefix|>`; SmolLM2's tokenizer has none, so it trains and
 * completes as plain causal text. One source of truth for datasets (FIM samples) and completions
 * (FIM prompts).
 */
import type { Tokenizer } from './tokenizer';

export interface FimTokens {
  /** Spelling family: StarCoder `<fim_prefix>` or Qwen2.5-Coder `<|fim_prefix|>`. */
  style: 'starcoder' | 'qwen';
  prefix: number;
  middle: number;
  suffix: number;
}

const STYLES = [
  { style: 'starcoder', spell: (p: string) => `<fim_${p}>` },
  { style: 'qwen', spell: (p: string) => `<|fim_${p}|>` },
] as const;

/** The model's FIM markers, or null for a model without them (it gets plain causal text). */
export function findFimTokens(tokenizer: Tokenizer): FimTokens | null {
  for (const { style, spell } of STYLES) {
    const prefix = tokenizer.tokenId(spell('prefix'));
    const middle = tokenizer.tokenId(spell('middle'));
    const suffix = tokenizer.tokenId(spell('suffix'));
    if (prefix !== undefined && middle !== undefined && suffix !== undefined)
      return { style, prefix, middle, suffix };
  }
  return null;
}
