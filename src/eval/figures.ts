/**
 * An evaluation's figures as plain data, and as the rows people read (the CLI's table, the model
 * card, the dashboard's evaluation section). No Node imports: the webview bundle uses this too.
 */
import type { SpanKind } from './spans';

export interface CompletionFigures {
  spans: number;
  /** Share of spans completed exactly (trailing whitespace aside), 0..1. */
  exactMatch: number;
  /** Mean character-level edit similarity, 0..1. */
  editSimilarity: number;
  /** Mean characters a user would accept per span (the longest common prefix). */
  acceptedChars: number;
  /** Accepted characters over the masked characters, 0..1. */
  acceptedShare: number;
  latencyMs: { mean: number; p50: number; p90: number };
  byKind: Partial<Record<SpanKind, { spans: number; exactMatch: number; editSimilarity: number }>>;
}

export interface ModelFigures {
  /** Validation loss (mean cross-entropy, nats) and perplexity; null when the split is too short. */
  validationLoss: number | null;
  perplexity: number | null;
  /** Weighted validation tokens the loss is over. */
  validationTokens: number;
  /** The completion benchmark; null when it did not run (no held-out files recorded). */
  completion: CompletionFigures | null;
}

/** One masked span with what each model wrote, for the side-by-side samples view. */
export interface EvalSample {
  file: string;
  line: number;
  kind: SpanKind;
  /** The last lines before the cursor. */
  before: string;
  expected: string;
  /** The first lines after the masked span. */
  after: string;
  base: string;
  tuned: string | null;
  baseExact: boolean;
  tunedExact: boolean | null;
}

export interface EvalReport {
  version: 1;
  createdAt: string;
  /** The base model folder (or hub id as given). */
  model: string;
  /** The adapter (or fine-tuned model folder) compared with the base; null: the base alone. */
  adapter: string | null;
  dataset: { dir: string; name: string; heldOutFiles: number; validationTokens: number };
  seed: number;
  base: ModelFigures;
  tuned: ModelFigures | null;
  samples: EvalSample[];
  /** The dataset in one line, for the model card (sources, split, scrubbing). */
  dataSummary: string;
  seconds: number;
  /** For chat runs: held-out conversations, base vs tuned (src/jobs/chatEval.ts). */
  chat?: ChatFigures;
}

/** Held-out conversations: the loss on the assistant's turns, and each model's reply to the prompts. */
export interface ChatFigures {
  /** Where the conversations came from (a dataset's held-out records, or a file), and how many. */
  source: string;
  conversations: number;
  base: { loss: number | null; perplexity: number | null; tokens: number };
  tuned: { loss: number | null; perplexity: number | null; tokens: number } | null;
  /**
   * Side by side: where the conversation is (`file:line`), its last user turn, the reply it had, and
   * what each model said (masked).
   */
  samples: { where?: string; prompt: string; expected: string; base: string; tuned: string | null }[];
  /** Secrets masked in the models' replies. */
  masked: number;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const fixed = (x: number | null, digits = 3) =>
  x === null || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits);

/** The figures as rows (label → value per side), for the model card and the CLI's table. */
export function figureRows(r: EvalReport): { label: string; base: string; tuned: string | null }[] {
  const side = (f: ModelFigures | null) => {
    if (!f) return null;
    const c = f.completion;
    return {
      loss: fixed(f.validationLoss),
      ppl: fixed(f.perplexity, 2),
      em: c ? `${pct(c.exactMatch)} of ${c.spans}` : 'n/a',
      sim: c ? fixed(c.editSimilarity) : 'n/a',
      acc: c ? `${c.acceptedChars.toFixed(1)} (${pct(c.acceptedShare)})` : 'n/a',
      lat: c ? `${Math.round(c.latencyMs.p50)} / ${Math.round(c.latencyMs.p90)} ms` : 'n/a',
    };
  };
  const b = side(r.base)!;
  const t = side(r.tuned);
  const row = (label: string, key: keyof typeof b) => ({ label, base: b[key], tuned: t ? t[key] : null });
  // A chat dataset without held-out files has no completion benchmark: its rows would only say n/a.
  const completion = !r.chat || r.base.completion !== null || (r.tuned?.completion ?? null) !== null;
  return [
    row('validation loss', 'loss'),
    row('validation perplexity', 'ppl'),
    ...(completion
      ? [
          row('completion exact match', 'em'),
          row('completion edit similarity', 'sim'),
          row('accepted characters per completion', 'acc'),
          row('completion latency p50 / p90', 'lat'),
        ]
      : []),
    ...chatRows(r.chat),
  ];
}

/** The chat figures as rows (none for runs without them). */
function chatRows(c: ChatFigures | undefined): { label: string; base: string; tuned: string | null }[] {
  if (!c) return [];
  const tuned = (f: (s: NonNullable<ChatFigures['tuned']>) => string) => (c.tuned ? f(c.tuned) : null);
  return [
    { label: 'held-out conversations loss', base: fixed(c.base.loss), tuned: tuned((t) => fixed(t.loss)) },
    {
      label: 'held-out conversations perplexity',
      base: fixed(c.base.perplexity, 2),
      tuned: tuned((t) => fixed(t.perplexity, 2)),
    },
  ];
}

/** The model card's evaluation table: the tuned figures with the base's beside them. */
export function cardEvaluation(r: EvalReport): Record<string, string> {
  const out: Record<string, string> = {};
  for (const row of figureRows(r))
    out[row.label] = row.tuned === null ? row.base : `${row.tuned} (base model: ${row.base})`;
  out['evaluation data'] =
    `${r.dataset.heldOutFiles} held-out files of ${r.dataset.name} (never trained on), ${r.dataset.validationTokens} validation tokens, seed ${r.seed}` +
    (r.chat ? `; ${r.chat.source} (never trained on), replies greedy` : '');
  return out;
}
