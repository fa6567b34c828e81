/**
 * Inline completions over a Decoder: the prompt around the cursor (prompt.ts), KV-cached decoding
 * that reuses the previous request's prompt prefix, stop rules checked on every new token
 * (stops.ts), and post-processing of the kept text. One request runs at a time; a newer request
 * supersedes the running one, which stops before its next token.
 */
import { findFimTokens, type FimTokens } from '../tokenizer/fimTokens';
import type { Decoder, GenerateResult } from '../generate/decoder';
import type { SamplingOptions } from '../generate/sampling';
import { TextStream } from '../generate/textStream';
import type { Tokenizer } from '../tokenizer/tokenizer';
import { pickSnippets, renderSnippets, type ContextFile } from './context';
import { stripTail, TokenHealer } from './heal';
import { buildCompletionPrompt } from './prompt';
import { cursorContext, postProcess, StopRules, stopTokenIds } from './stops';

/** What the editor asks for: the text around the cursor. */
export interface CompletionRequest {
  /** The document's text before the cursor. */
  prefix: string;
  /** The document's text after the cursor. */
  suffix: string;
  languageId: string;
  /** New tokens at most (default: 48 single-line, 128 multi-line). */
  maxTokens?: number;
  /** 'auto' (default): multi-line on an empty line after a block opener, else one line. */
  multiline?: 'auto' | 'single' | 'multi';
  /** Generation stops after this long (default 2000 ms); the text so far is kept. */
  timeBudgetMs?: number;
  /** Other files of the workspace (open editors, imported files): their most similar lines go before the prefix (context.ts). */
  context?: ContextFile[];
}

/** Why generation ended. */
export type CompletionStop =
  /** End of sequence, or a FIM end / file separator token. */
  | 'eos'
  /** Single-line mode: the line ended. */
  | 'line'
  /** Multi-line mode: a line dedented below the starting indentation (the block ended). */
  | 'dedent'
  | 'max_tokens'
  | 'context'
  | 'time'
  /** The caller's signal aborted. */
  | 'cancelled'
  /** A newer request arrived. */
  | 'superseded'
  /** Nothing to complete from (an empty document). */
  | 'empty';

export interface Completion {
  /** The text to insert at the cursor (may be empty: nothing worth showing). */
  text: string;
  stop: CompletionStop;
  /** Why a generated text was dropped or shortened in post-processing, for the log. */
  note?: string;
  promptTokens: number;
  /** Prompt tokens whose keys and values came from the previous request. */
  reusedTokens: number;
  /** From the call to the first new token (NaN when none). */
  firstTokenMs: number;
  /** From the call to the result. */
  latencyMs: number;
}

export interface CompleterOptions extends SamplingOptions {
  /** The model's FIM markers; default: what its tokenizer has (findFimTokens). */
  fim?: FimTokens | null;
  /** Prompt tokens at most (default 1024, and always leaving room for maxTokens). */
  promptTokens?: number;
  /** Default time budget of a request (2000 ms). */
  timeBudgetMs?: number;
  seed?: number;
  /** Token healing at the cursor (heal.ts; default true). */
  heal?: boolean;
  /** The FIM prompt's layout (prompt.ts); default: the model's (DecoderInfo.fimLayout). */
  fimLayout?: 'psm' | 'spm';
}

const DEFAULT_PROMPT_TOKENS = 1024;
const DEFAULT_TIME_BUDGET_MS = 2000;

export class Completer {
  readonly fim: FimTokens | null;
  private readonly stopIds: number[];
  private current: AbortController | undefined;
  private readonly healer: TokenHealer | null;

  constructor(
    readonly decoder: Decoder,
    readonly tokenizer: Tokenizer,
    private readonly o: CompleterOptions = {},
  ) {
    this.fim = o.fim === undefined ? findFimTokens(tokenizer) : o.fim;
    this.stopIds = stopTokenIds(tokenizer, decoder.info.eosIds);
    this.healer = o.heal === false ? null : new TokenHealer(tokenizer);
  }

  /**
   * Completes at the cursor. A call supersedes the one still running (it stops before its next
   * token and resolves with stop 'superseded'); `signal` cancels (stop 'cancelled').
   */
  async complete(request: CompletionRequest, signal?: AbortSignal): Promise<Completion> {
    const started = performance.now();
    this.current?.abort('superseded');
    const controller = new AbortController();
    this.current = controller;
    const cancel = () => controller.abort('cancelled');
    signal?.addEventListener('abort', cancel, { once: true });
    if (signal?.aborted) cancel();
    const budgetMs = request.timeBudgetMs ?? this.o.timeBudgetMs ?? DEFAULT_TIME_BUDGET_MS;
    const timer = setTimeout(() => controller.abort('time'), budgetMs);
    try {
      return await this.run(request, controller.signal, started, started + budgetMs);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', cancel);
      if (this.current === controller) this.current = undefined;
    }
  }

  /** One short run so that the first real request does not pay ONNX Runtime's first-run setup. */
  async warmUp(): Promise<void> {
    this.healer?.prepare();
    await this.complete({ prefix: 'a = 1\n', suffix: '', languageId: 'plaintext', maxTokens: 2 });
    this.decoder.reset();
  }

  private async run(
    request: CompletionRequest,
    signal: AbortSignal,
    started: number,
    deadline: number,
  ): Promise<Completion> {
    const ctx = cursorContext(request.prefix, request.suffix, request.multiline ?? 'auto');
    const { contextLength } = this.decoder.info;
    const maxTokens = Math.max(
      1,
      Math.min(request.maxTokens ?? (ctx.multiline ? 128 : 48), contextLength - 8),
    );
    const built = buildCompletionPrompt({
      prefix: request.prefix,
      suffix: request.suffix,
      tokenizer: this.tokenizer,
      fim: this.fim,
      fimLayout: this.o.fimLayout ?? this.decoder.info.fimLayout,
      budgetTokens: Math.min(this.o.promptTokens ?? DEFAULT_PROMPT_TOKENS, contextLength - maxTokens),
      context: request.context?.length
        ? renderSnippets(pickSnippets(request.context, request.prefix), request.languageId)
        : undefined,
    });
    // The prompt's last token backed off, to be spelled again by the model (heal.ts).
    const healed = built.prefixTokens > 1 ? this.healer?.backOff(built.ids, built.prefixEnd - 1) : null;
    const prompt = { ids: healed?.ids ?? built.ids };
    let rest = healed?.tail ?? '';
    // Generated text held back while it still spells the tail (then taken off its front).
    let held: string | null = healed ? '' : null;
    let firstTokenMs = NaN;
    const done = (text: string, stop: CompletionStop, note?: string, r?: GenerateResult): Completion => ({
      text,
      stop,
      note,
      promptTokens: prompt.ids.length,
      reusedTokens: r?.reusedTokens ?? 0,
      firstTokenMs,
      latencyMs: performance.now() - started,
    });
    if (signal.aborted) return done('', signal.reason as CompletionStop);
    if (prompt.ids.length === 0) return done('', 'empty', 'no text before the cursor');

    const rules = new StopRules(ctx);
    const stream = new TextStream((ids) => this.tokenizer.decode(ids));
    const controller = new AbortController();
    const forward = () => controller.abort(signal.reason);
    signal.addEventListener('abort', forward, { once: true });
    const r = await this.decoder
      .generate(prompt.ids, {
        maxTokens,
        stopIds: this.stopIds,
        signal: controller.signal,
        temperature: this.o.temperature,
        topP: this.o.topP,
        seed: this.o.seed,
        // onLogits sees each step's logits before the token is chosen (decoder.ts): the healed
        // tail's steps are constrained there.
        onLogits: (logits) => {
          if (rest) this.healer!.constrain(logits, rest);
        },
        onToken: (id) => {
          if (Number.isNaN(firstTokenMs)) firstTokenMs = performance.now() - started;
          let piece = stream.push(id);
          if (healed && held !== null) {
            rest = this.healer!.advance(rest, id);
            held += piece;
            if (rest) return;
            piece = stripTail(held, healed.tail);
            held = null;
          }
          const stop = rules.push(piece);
          if (stop) controller.abort(stop);
          else if (performance.now() >= deadline) controller.abort('time');
        },
      })
      .finally(() => signal.removeEventListener('abort', forward));
    if (!rules.stop) {
      const last = stream.flush();
      // Generation ended while still spelling the tail: what came beyond it counts.
      rules.push(healed && held !== null ? stripTail(held + last, healed.tail) : last);
    }
    const stop: CompletionStop =
      rules.stop ?? (r.stop === 'aborted' ? (controller.signal.reason as CompletionStop) : r.stop);
    if (stop === 'superseded' || stop === 'cancelled') return done('', stop, undefined, r);
    const shown = postProcess(rules.text, { ...ctx, suffix: request.suffix });
    return done(shown.text, stop, shown.note, r);
  }
}
