/**
 * The host side of the completion worker (no vscode import): forks `dist/worker/complete.js`, loads
 * the model once, and turns requests into promises. A newer request supersedes the older one (its
 * promise resolves null at once; the worker stops it before its next token), an aborted signal
 * cancels, and a worker that dies is restarted once; if that fails too, or it dies again soon
 * after, `onDidCrash` listeners hear why and later requests reject with that reason.
 */
import type { ChildProcess } from 'node:child_process';
import type { CompletionRequest } from '../engine/complete/completer';
import {
  COMPLETE_PROTOCOL_VERSION,
  ctag,
  isCompleteWorkerMessage,
  type CompleteHostMessage,
  type LoadSpec,
} from './completeProtocol';
import { forkWorker } from './fork';

export type { CompletionRequest } from '../engine/complete/completer';

export interface CompletionResult {
  text: string;
  /** Why generation ended: eos, line, dedent, max_tokens, context, time (see CompletionStop). */
  stop: string;
  latencyMs: number;
  firstTokenMs: number;
  promptTokens: number;
  reusedTokens: number;
  /** The model that served, for the status bar. */
  model: string;
  /** Secrets the model wrote that the worker masked in `text` (placeholders instead). */
  masked: number;
}

/** A model folder with an optional PEFT adapter merged into it. */
export interface CompletionModelSpec {
  modelDir: string;
  adapterDir?: string;
}

export interface CompletionClientOptions {
  /** dist/worker/complete.js, or src/jobs/workers/complete.ts (run through tsx) in tests. */
  workerPath: string;
  /** A model folder (+ adapter), or a folder written by `localtune export`. */
  model: CompletionModelSpec | { exportDir: string };
  dtype: 'fp32' | 'int8';
  /** 0 (default): greedy. */
  temperature?: number;
  topP?: number;
  /** Worker log lines and stderr, for the output channel. */
  onLog?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

/** After a restart the worker must stay up this long before another crash earns another restart. */
const RESTART_REARM_MS = 10 * 60_000;

type Pending =
  | { kind: 'complete'; resolve: (r: CompletionResult | null) => void; reject: (e: Error) => void }
  | { kind: 'health'; resolve: (ok: boolean) => void };

interface Worker {
  child: ChildProcess;
  loaded: boolean;
  stderr: string[];
}

export class CompletionClient {
  private worker: Worker | undefined;
  /** Resolves when the current worker has loaded the model (a restart replaces it). */
  private ready: Promise<void> = Promise.resolve();
  private model = '';
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private restartsLeft = 1;
  private restartedAt = 0;
  private dead: string | undefined;
  private disposed = false;
  private readonly crashListeners = new Set<(cause: string) => void>();

  private constructor(private readonly o: CompletionClientOptions) {}

  /** Forks the worker and loads the model; rejects with the worker's message when loading fails. */
  static async start(o: CompletionClientOptions): Promise<CompletionClient> {
    const client = new CompletionClient(o);
    client.ready = client.launch();
    await client.ready;
    return client;
  }

  /** The worker's process id (undefined between a crash and its restart). */
  get pid(): number | undefined {
    return this.worker?.child.pid;
  }

  /** The model that serves (a folder name, with the adapter's). */
  get modelName(): string {
    return this.model;
  }

  /**
   * Completes at the cursor. Resolves null when a newer request superseded this one or `signal`
   * aborted; rejects when the worker failed the request or is gone for good.
   */
  async complete(req: CompletionRequest, signal?: AbortSignal): Promise<CompletionResult | null> {
    if (this.dead) throw new Error(`the completion worker is not running: ${this.dead}`);
    if (this.disposed || signal?.aborted) return null;
    const id = this.nextId++;
    for (const [otherId, p] of this.pending)
      if (p.kind === 'complete') {
        this.pending.delete(otherId);
        p.resolve(null);
      }
    const result = new Promise<CompletionResult | null>((resolve, reject) =>
      this.pending.set(id, { kind: 'complete', resolve, reject }),
    );
    const onAbort = () => {
      const p = this.pending.get(id);
      if (!p) return;
      this.pending.delete(id);
      this.send({ type: 'cancel', id });
      (p as Extract<Pending, { kind: 'complete' }>).resolve(null);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await this.ready; // a restart in progress
    } catch {
      // the restart failed: the pending request was already rejected
    }
    if (this.pending.has(id)) this.send({ type: 'complete', id, request: req });
    return result.finally(() => signal?.removeEventListener('abort', onAbort));
  }

  /** Whether the worker answers within `timeoutMs` (it answers between tokens while generating). */
  health(timeoutMs = 2000): Promise<boolean> {
    if (!this.worker?.loaded || this.dead || this.disposed) return Promise.resolve(false);
    const id = this.nextId++;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(false);
      }, timeoutMs);
      this.pending.set(id, {
        kind: 'health',
        resolve: (ok) => {
          clearTimeout(timer);
          resolve(ok);
        },
      });
      this.send({ type: 'health', id });
    });
  }

  /** Called once the worker has died and its one automatic restart failed too. */
  onDidCrash(listener: (cause: string) => void): void {
    this.crashListeners.add(listener);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.settleAll(null);
    const w = this.worker;
    this.worker = undefined;
    if (w && w.child.exitCode === null && w.child.signalCode === null) w.child.kill();
  }

  private launch(): Promise<void> {
    const child = forkWorker(this.o.workerPath, { env: this.o.env });
    const w: Worker = { child, loaded: false, stderr: [] };
    this.worker = w;
    const keep = (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        w.stderr.push(line);
        this.o.onLog?.(line);
      }
      if (w.stderr.length > 40) w.stderr.splice(0, w.stderr.length - 40);
    };
    child.stderr?.setEncoding('utf8').on('data', keep);
    child.stdout?.setEncoding('utf8').on('data', keep);
    return new Promise<void>((resolve, reject) => {
      child.on('message', (m) => {
        const settled = this.receive(w, m);
        if (settled === 'loaded') resolve();
        else if (settled) reject(new Error(settled));
      });
      child.on('error', (err) => keep(err.message));
      child.on('exit', (code, signal) => {
        const cause = exitCause(code, signal, w.stderr);
        if (!w.loaded) reject(new Error(`the completion worker failed to start: ${cause}`));
        this.exited(w, cause);
      });
      const spec: LoadSpec = {
        model: this.o.model,
        dtype: this.o.dtype,
        temperature: this.o.temperature,
        topP: this.o.topP,
      };
      this.sendTo(w, { type: 'load', spec });
    });
  }

  /** Handles one message; returns 'loaded', a load failure's message, or undefined. */
  private receive(w: Worker, m: unknown): string | undefined {
    if (!isCompleteWorkerMessage(m)) return undefined;
    if (m.v !== COMPLETE_PROTOCOL_VERSION) {
      const why = `the completion worker speaks protocol v${m.v}, the extension v${COMPLETE_PROTOCOL_VERSION}: reinstall LocalTune`;
      this.restartsLeft = 0; // a restart would speak the same version
      w.child.kill('SIGKILL');
      return why;
    }
    switch (m.type) {
      case 'loaded':
        w.loaded = true;
        this.model = m.model;
        this.o.onLog?.(
          `loaded ${m.model} in ${Math.round(m.loadMs)} ms (${m.fim ? `FIM: ${m.fim}` : 'no FIM tokens: prefix-only prompts'})`,
        );
        return 'loaded';
      case 'result': {
        const p = this.pending.get(m.id);
        if (p?.kind !== 'complete') return undefined;
        this.pending.delete(m.id);
        const c = m.completion;
        p.resolve(
          c && {
            text: c.text,
            stop: c.stop,
            latencyMs: c.latencyMs,
            firstTokenMs: c.firstTokenMs,
            promptTokens: c.promptTokens,
            reusedTokens: c.reusedTokens,
            model: this.model,
            masked: c.masked,
          },
        );
        return undefined;
      }
      case 'pong': {
        const p = this.pending.get(m.id);
        if (p?.kind === 'health') {
          this.pending.delete(m.id);
          p.resolve(true);
        }
        return undefined;
      }
      case 'error': {
        const p = m.id === undefined ? undefined : this.pending.get(m.id);
        if (p?.kind === 'complete') {
          this.pending.delete(m.id!);
          p.reject(new Error(m.message));
          return undefined;
        }
        this.o.onLog?.(`error: ${m.message}${m.stack ? `\n${m.stack}` : ''}`);
        return w.loaded ? undefined : m.message;
      }
      case 'log':
        this.o.onLog?.(m.level === 'warn' ? `warning: ${m.message}` : m.message);
        return undefined;
      default:
        return undefined;
    }
  }

  private exited(w: Worker, cause: string): void {
    if (this.disposed || this.worker !== w) return;
    this.worker = undefined;
    this.o.onLog?.(cause);
    this.settleAll(new Error(cause));
    if (!w.loaded) {
      // The first start failed: start() rejects. A restart that failed: report it.
      if (this.restartedAt) this.die(cause);
      return;
    }
    if (this.restartsLeft === 0 && Date.now() - this.restartedAt > RESTART_REARM_MS) this.restartsLeft = 1;
    if (this.restartsLeft === 0) return this.die(cause);
    this.restartsLeft--;
    this.restartedAt = Date.now();
    this.o.onLog?.('restarting the completion worker');
    this.ready = this.launch();
    this.ready.catch(() => undefined); // exited() reports a failed restart
  }

  private die(cause: string): void {
    this.dead = cause;
    for (const l of this.crashListeners) l(cause);
  }

  /** Ends every pending request: completes with `error` (or null), health checks with false. */
  private settleAll(error: Error | null): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) {
      if (p.kind === 'health') p.resolve(false);
      else if (error) p.reject(error);
      else p.resolve(null);
    }
  }

  private send(m: DistributiveOmit<CompleteHostMessage, 'v'>): void {
    if (this.worker) this.sendTo(this.worker, m);
  }

  private sendTo(w: Worker, m: DistributiveOmit<CompleteHostMessage, 'v'>): void {
    if (w.child.connected) w.child.send(ctag(m));
  }
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

function exitCause(code: number | null, signal: NodeJS.Signals | null, stderr: string[]): string {
  const last = stderr.length ? ` (${stderr[stderr.length - 1]})` : '';
  if (signal === 'SIGKILL')
    return 'the completion worker was killed (SIGKILL: out of memory, or ended by another program)';
  if (signal) return `the completion worker crashed (${signal})${last}`;
  return `the completion worker exited with code ${code}${last}`;
}
