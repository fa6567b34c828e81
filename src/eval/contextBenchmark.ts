/**
 * The completion benchmark with and without workspace context (spans.ts withWorkspaceContext): the
 * same spans asked twice, so the two exact-match figures differ only by the context.
 */
import { runBenchmark, summarize, type SpanAnswer } from './benchmark';
import type { CompletionFigures } from './report';
import type { MaskedSpan } from './spans';

export interface ContextFigures {
  without: CompletionFigures;
  with: CompletionFigures;
  /** Spans that had any context to show. */
  spansWithContext: number;
}

export async function compareContext(
  spans: readonly MaskedSpan[],
  complete: (span: MaskedSpan) => Promise<SpanAnswer>,
): Promise<ContextFigures> {
  const bare = spans.map((s) => ({ ...s, context: undefined }));
  const without = summarize(await runBenchmark(bare, complete));
  const withContext = summarize(await runBenchmark(spans, complete));
  return {
    without,
    with: withContext,
    spansWithContext: spans.filter((s) => (s.context?.length ?? 0) > 0).length,
  };
}
