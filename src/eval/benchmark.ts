/**
 * The completion benchmark: each masked span is asked of a model exactly as the editor asks (the
 * completion engine's prompt builder, stop rules and post-processing, through `complete`), and the
 * answer is scored against what the developer wrote.
 */
import { acceptedChars, editSimilarity, exactMatch, mean, quantile } from './metrics';
import type { CompletionFigures } from './report';
import { SPAN_KINDS, type MaskedSpan } from './spans';

/** One span's answer: the text the editor would show, and how long it took. */
export interface SpanAnswer {
  text: string;
  latencyMs: number;
}

export interface SpanResult {
  span: MaskedSpan;
  answer: SpanAnswer;
  exact: boolean;
  similarity: number;
  accepted: number;
}

export async function runBenchmark(
  spans: readonly MaskedSpan[],
  complete: (span: MaskedSpan) => Promise<SpanAnswer>,
  onProgress?: (done: number, total: number) => void,
): Promise<SpanResult[]> {
  const results: SpanResult[] = [];
  for (const span of spans) {
    const answer = await complete(span);
    results.push({
      span,
      answer,
      exact: exactMatch(answer.text, span.expected),
      similarity: editSimilarity(answer.text, span.expected),
      accepted: acceptedChars(answer.text, span.expected),
    });
    onProgress?.(results.length, spans.length);
  }
  return results;
}

export function summarize(results: readonly SpanResult[]): CompletionFigures {
  const latencies = results.map((r) => r.answer.latencyMs);
  const masked = results.reduce((a, r) => a + r.span.expected.trimEnd().length, 0);
  const accepted = results.reduce((a, r) => a + r.accepted, 0);
  const byKind: CompletionFigures['byKind'] = {};
  for (const kind of SPAN_KINDS) {
    const of = results.filter((r) => r.span.kind === kind);
    if (of.length)
      byKind[kind] = {
        spans: of.length,
        exactMatch: of.filter((r) => r.exact).length / of.length,
        editSimilarity: mean(of.map((r) => r.similarity)),
      };
  }
  const n = results.length;
  return {
    spans: n,
    exactMatch: n ? results.filter((r) => r.exact).length / n : 0,
    editSimilarity: n ? mean(results.map((r) => r.similarity)) : 0,
    acceptedChars: n ? accepted / n : 0,
    acceptedShare: masked ? accepted / masked : 0,
    latencyMs: { mean: mean(latencies), p50: quantile(latencies, 0.5), p90: quantile(latencies, 0.9) },
    byKind,
  };
}
