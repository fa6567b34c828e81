/**
 * Inline completions (ghost text) from the tuned model. Per request: the bounded text around the
 * cursor (the worker's prompt builder applies the token budget), an answer from the cache when the
 * user typed the first characters of the suggestion shown, else a debounce and one request to the
 * completion worker that the editor's cancellation aborts. Each item carries a command, so an
 * accepted suggestion is counted (and checked for survival 30 s later) in the local statistics.
 */
import * as vscode from 'vscode';
import type { CompletionResult } from '../../jobs/completionClient';
import { CompletionCache, Debouncer, type CachedCompletion } from './completionCache';
import { completionSettings, type CompletionService } from './completionService';
import { fitSuggestion, PREFIX_WINDOW_CHARS, skipReason, SUFFIX_WINDOW_CHARS } from './completionText';
import { workspaceContext } from './workspaceContext';

/** What a provider call came to: items, where they came from, or why there are none. */
export interface ProvideOutcome {
  items: vscode.InlineCompletionItem[];
  source?: 'cache' | 'model';
  /** From the call (after the debounce) to the items. */
  latencyMs?: number;
  result?: CompletionResult;
  reason?: string;
}

/** The argument of the accept command an item carries. */
interface Accepted {
  model: string;
  label: string;
  uri: string;
  start: number;
  text: string;
}

const ACCEPTED_COMMAND = 'localtune.completions.accepted';
/** Suggestion ids already counted as shown (a typed-ahead continuation is the same suggestion). */
const SHOWN_MEMORY = 256;

export class CompletionProvider implements vscode.InlineCompletionItemProvider {
  private readonly cache = new CompletionCache();
  private readonly debouncer = new Debouncer();
  private readonly shownIds = new Set<number>();

  constructor(
    private readonly service: CompletionService,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  async provideInlineCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
    context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    // The suggest widget is open: its selection drives what is shown; leave it to that provider.
    if (context.selectedCompletionInfo) return undefined;
    const outcome = await this.provide(document, position, context.triggerKind, token);
    return outcome.items;
  }

  /** Registers the provider and the accept command; also the test-only `debugComplete`. */
  register(): vscode.Disposable[] {
    return [
      vscode.languages.registerInlineCompletionItemProvider(
        [{ scheme: 'file' }, { scheme: 'untitled' }, { scheme: 'vscode-notebook-cell' }],
        this,
      ),
      vscode.commands.registerCommand(ACCEPTED_COMMAND, (a: Accepted) =>
        this.service.stats.accepted(a.model, a.label, a.uri, a.start, a.text),
      ),
      // For the e2e tests: the provider's answer at the active editor's cursor, as an explicit trigger.
      vscode.commands.registerCommand('localtune.completions.debugComplete', async () => {
        const editor = vscode.window.activeTextEditor;
        if (!editor) return { items: [], reason: 'no active editor' };
        const cts = new vscode.CancellationTokenSource();
        try {
          const o = await this.provide(
            editor.document,
            editor.selection.active,
            vscode.InlineCompletionTriggerKind.Invoke,
            cts.token,
            false,
          );
          return {
            ...o,
            items: o.items.map((i) => ({
              insertText: String(i.insertText),
              range: i.range && [
                i.range.start.line,
                i.range.start.character,
                i.range.end.line,
                i.range.end.character,
              ],
            })),
          };
        } finally {
          cts.dispose();
        }
      }),
    ];
  }

  async provide(
    document: vscode.TextDocument,
    position: vscode.Position,
    triggerKind: vscode.InlineCompletionTriggerKind,
    token: vscode.CancellationToken,
    /** Whether the items go to the editor (counted as shown); false for the test command. */
    toEditor = true,
  ): Promise<ProvideOutcome> {
    const disabled = this.service.disabledReason(document);
    if (disabled) return { items: [], reason: disabled };
    const lineSuffix = document.lineAt(position.line).text.slice(position.character);
    const skip = skipReason(lineSuffix);
    if (skip) return { items: [], reason: skip };

    const s = completionSettings();
    const offset = document.offsetAt(position);
    const prefix = document.getText(
      new vscode.Range(document.positionAt(Math.max(0, offset - PREFIX_WINDOW_CHARS)), position),
    );
    const suffix = document.getText(
      new vscode.Range(position, document.positionAt(offset + SUFFIX_WINDOW_CHARS)),
    );
    const started = performance.now();

    // Typed ahead into the suggestion shown (or the same place again): no request.
    const hit = this.cache.get(prefix, suffix, s.model, document.languageId);
    if (hit) {
      const items = this.items(hit.entry, hit.rest, lineSuffix, document, position, toEditor && token);
      return { items, source: 'cache', latencyMs: performance.now() - started };
    }

    const debounceMs = triggerKind === vscode.InlineCompletionTriggerKind.Automatic ? s.debounceMs : 0;
    if (!(await this.debouncer.wait(debounceMs, () => token.isCancellationRequested)))
      return { items: [], reason: 'superseded while waiting (debounce)' };
    const t0 = performance.now();
    const serving = await this.service.ready();
    if (!serving) return { items: [], reason: 'the completion worker is not running' };
    if (token.isCancellationRequested) return { items: [], reason: 'cancelled' };

    const abort = new AbortController();
    const onCancel = token.onCancellationRequested(() => abort.abort());
    let result: CompletionResult | null;
    try {
      result = await serving.client.complete(
        {
          prefix,
          suffix,
          languageId: document.languageId,
          maxTokens: s.maxTokens,
          multiline: 'auto',
          timeBudgetMs: s.timeBudgetMs,
          context: s.workspaceContext ? workspaceContext(document, prefix) : undefined,
        },
        abort.signal,
      );
    } catch (err) {
      this.log.warn(`completion failed: ${(err as Error).message}`);
      return { items: [], reason: (err as Error).message };
    } finally {
      onCancel.dispose();
    }
    if (!result) return { items: [], reason: 'cancelled or superseded by a newer request' };
    // Watching the outputs: the worker masked any secret the model wrote; the dashboard counts them.
    if (result.masked > 0) void vscode.commands.executeCommand('localtune.countMaskedOutputs', result.masked);
    const latencyMs = performance.now() - t0;
    this.service.reportLatency(latencyMs);
    const timing =
      `${Math.round(latencyMs)} ms (worker ${Math.round(result.latencyMs)} ms, first token ${Math.round(result.firstTokenMs)} ms, ` +
      `${result.promptTokens} prompt tokens, ${result.reusedTokens} reused, stop: ${result.stop})`;
    const entry = this.cache.put({
      prefix,
      suffix,
      text: result.text,
      model: s.model,
      languageId: document.languageId,
    });
    const items = this.items(entry, result.text, lineSuffix, document, position, toEditor && token);
    if (items.length === 0)
      this.log.info(
        `completion: nothing to show in ${timing}: ${result.text ? `${JSON.stringify(result.text)} only repeats what follows the cursor` : 'the model proposed no text'}`,
      );
    else this.log.info(`completion in ${timing}: ${JSON.stringify(result.text)}`);
    return {
      items,
      source: 'model',
      latencyMs,
      result,
      reason: items.length ? undefined : 'nothing to show',
    };
  }

  private items(
    entry: CachedCompletion,
    text: string,
    lineSuffix: string,
    document: vscode.TextDocument,
    position: vscode.Position,
    /** The editor's request (false: nobody sees these items). */
    token: vscode.CancellationToken | false,
  ): vscode.InlineCompletionItem[] {
    const fit = fitSuggestion(text, lineSuffix);
    if (!fit) return [];
    const label = this.service.served?.label ?? entry.model;
    // Counted once per suggestion, when the editor still wants it.
    if (token && !token.isCancellationRequested && !this.shownIds.has(entry.id)) {
      this.shownIds.add(entry.id);
      if (this.shownIds.size > SHOWN_MEMORY) this.shownIds.delete(this.shownIds.values().next().value!);
      void this.service.stats.shown(entry.model, label);
    }
    const accepted: Accepted = {
      model: entry.model,
      label,
      uri: document.uri.toString(),
      start: document.offsetAt(position),
      text: fit.insertText,
    };
    return [
      new vscode.InlineCompletionItem(
        fit.insertText,
        new vscode.Range(position, position.translate(0, fit.replaceChars)),
        {
          command: ACCEPTED_COMMAND,
          title: 'Count the accepted completion',
          arguments: [accepted],
        },
      ),
    ];
  }
}
