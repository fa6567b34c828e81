/**
 * A split's packed stream back into the documents it was packed from, as JSONL rows the engines
 * read. Documents end at the EOS token. A document trained on every token but its leading prefix
 * (the tokenizer's BOS, which both engines add again when they tokenize text) becomes
 * `{"text": …}` without that prefix and without the EOS (both add it back). A document with other
 * loss-masked tokens (chat: only assistant turns are trained) becomes Axolotl's template-free
 * `{"segments": [{"label": bool, "text": …}]}`: runs of tokens with one loss weight, special tokens
 * spelled out, so the engine trains on exactly the tokens we would.
 */
import type { Tokenizer } from '../../engine/tokenizer/tokenizer';
import type { TokenStream } from '../../engine/train/windows';

export interface ExportedSplit {
  /** `{"text"}` rows, one line each. */
  text: string[];
  /** `{"segments"}` rows, one line each. */
  segments: string[];
  /** Documents whose rows encode back to the very same ids (text, or segment by segment). */
  roundTrip: { documents: number; identical: number };
}

/**
 * `specialIds`: tokens a segment is cut at (EOS, the prefix, FIM markers), so no segment's text
 * joins a special token to its neighbours.
 */
export function exportSplit(
  stream: TokenStream,
  tokenizer: Tokenizer,
  eosId: number,
  specialIds: ReadonlySet<number> = new Set([eosId, ...tokenizer.prefixIds]),
): ExportedSplit {
  const out: ExportedSplit = { text: [], segments: [], roundTrip: { documents: 0, identical: 0 } };
  const prefix = tokenizer.prefixIds;
  let start = 0;
  for (let i = 0; i < stream.ids.length; i++) {
    const last = i === stream.ids.length - 1;
    if (stream.ids[i] !== eosId && !last) continue;
    const ids = Array.from(stream.ids.subarray(start, i + 1));
    const weights = stream.weights.subarray(start, i + 1);
    start = i + 1;
    out.roundTrip.documents++;
    const body = textBody(ids, weights, prefix, eosId);
    const text = body && tokenizer.decode(body);
    if (body && text !== null && sameIds(tokenizer.encode(text), body)) {
      out.text.push(JSON.stringify({ text }));
      out.roundTrip.identical++;
      continue;
    }
    const segments = segmentsOf(ids, weights, tokenizer, specialIds);
    out.segments.push(JSON.stringify({ segments }));
    if (
      sameIds(
        segments.flatMap((seg) => tokenizer.encode(seg.text)),
        ids,
      )
    )
      out.roundTrip.identical++;
  }
  return out;
}

/** The ids between the prefix and the EOS when every one of them is trained on; else null. */
function textBody(
  ids: number[],
  weights: Uint8Array,
  prefix: readonly number[],
  eosId: number,
): number[] | null {
  const hasPrefix = prefix.length > 0 && prefix.every((p, k) => ids[k] === p && weights[k] === 0);
  const from = hasPrefix ? prefix.length : 0;
  const to = ids[ids.length - 1] === eosId ? ids.length - 1 : ids.length;
  if (to <= from) return null;
  for (let k = from; k < ids.length; k++) if (weights[k] === 0) return null;
  return ids.slice(from, to);
}

/** Runs of tokens with the same loss weight, each special token a run of its own, decoded. */
function segmentsOf(
  ids: number[],
  weights: Uint8Array,
  tokenizer: Tokenizer,
  specialIds: ReadonlySet<number>,
) {
  const segments: { label: boolean; text: string }[] = [];
  let from = 0;
  for (let k = 1; k <= ids.length; k++) {
    const cut = specialIds.has(ids[k]) || specialIds.has(ids[k - 1]);
    if (k < ids.length && !cut && weights[k] > 0 === weights[from] > 0) continue;
    for (const piece of exactPieces(ids.slice(from, k), tokenizer))
      segments.push({ label: weights[from] > 0, text: tokenizer.decode(piece) });
    from = k;
  }
  return segments;
}

/**
 * A run cut where its text would encode differently: pieces encoded apart and laid side by side
 * (FIM's SPM layout puts the prefix and the middle in one run) are found where a re-encoding first
 * departs from the ids, and cut at the longest head near there that encodes back exactly.
 */
function exactPieces(ids: number[], tokenizer: Tokenizer, depth = 0): number[][] {
  const again = tokenizer.encode(tokenizer.decode(ids));
  if (sameIds(again, ids) || depth >= MAX_CUTS) return [ids];
  let differs = 0;
  while (differs < ids.length && again[differs] === ids[differs]) differs++;
  for (
    let cut = Math.min(ids.length - 1, differs + CUT_SEARCH);
    cut > 0 && cut > differs - CUT_SEARCH;
    cut--
  ) {
    const head = ids.slice(0, cut);
    if (sameIds(tokenizer.encode(tokenizer.decode(head)), head))
      return [head, ...exactPieces(ids.slice(cut), tokenizer, depth + 1)];
  }
  return [ids];
}

/** Cuts per run, and how far around the first differing token a cut is tried. */
const MAX_CUTS = 8;
const CUT_SEARCH = 4;

function sameIds(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, k) => v === b[k]);
}
