/**
 * The completion worker (`dist/worker/complete.js`): long-lived, forked by CompletionClient. It
 * loads one model (a model folder with its adapter merged, or an exported folder) on `load`, then
 * answers `complete` requests one at a time with the Completer (a newer request supersedes the
 * running one), `cancel`, and `health` (answered between tokens, since ONNX Runtime runs off the
 * main thread). It exits when the host goes away.
 */
import { Completer } from '../../engine/complete/completer';
import { isUserError } from '../../engine/errors';
import { Decoder } from '../../engine/generate/decoder';
import { loadAdapter } from '../../engine/formats/peft';
import { loadTokenizer } from '../../engine/tokenizer/tokenizer';
import { loadModel } from '../../engine/models';
import { maskOutput } from '../chatOutput';
import {
  COMPLETE_PROTOCOL_VERSION,
  ctag,
  isCompleteHostMessage,
  modelLabel,
  type CompleteWorkerMessage,
  type LoadSpec,
} from '../completeProtocol';

let completer: Completer | undefined;
let loading = false;
const running = new Map<number, AbortController>();

function send(m: CompleteWorkerMessage): void {
  if (process.connected) process.send!(m);
}

function errorMessage(err: unknown, id?: number): CompleteWorkerMessage {
  const e = err as Error;
  const user = isUserError(err);
  return ctag({
    type: 'error' as const,
    id,
    cause: user ? ('user' as const) : ('internal' as const),
    message: e?.message ?? String(err),
    stack: user ? undefined : e?.stack,
  });
}

async function load(spec: LoadSpec): Promise<Completer> {
  // No spinning: the worker shares the cores with the editor (see DecoderSessionOptions.spin).
  const o = { dtype: spec.dtype, threads: spec.threads, spin: false };
  let decoder: Decoder;
  let tokenizerDir: string;
  if ('exportDir' in spec.model) {
    decoder = await Decoder.fromExported(spec.model.exportDir, o);
    tokenizerDir = spec.model.exportDir;
  } else {
    const model = loadModel(spec.model.modelDir);
    try {
      const adapter = spec.model.adapterDir ? loadAdapter(spec.model.adapterDir) : undefined;
      decoder = await Decoder.fromModel(model, { ...o, adapter });
    } finally {
      model.weights.close();
    }
    tokenizerDir = spec.model.modelDir;
  }
  const tokenizer = await loadTokenizer(tokenizerDir);
  const c = new Completer(decoder, tokenizer, { temperature: spec.temperature, topP: spec.topP });
  await c.warmUp();
  return c;
}

function onMessage(m: unknown): void {
  if (!isCompleteHostMessage(m)) {
    send(
      ctag({
        type: 'error',
        cause: 'protocol',
        message: `completion worker speaks protocol v${COMPLETE_PROTOCOL_VERSION}; got ${JSON.stringify(m).slice(0, 200)}`,
      }),
    );
    return;
  }
  switch (m.type) {
    case 'load': {
      if (completer || loading) {
        send(ctag({ type: 'error', cause: 'protocol', message: 'this worker has already loaded a model' }));
        return;
      }
      loading = true;
      const started = performance.now();
      load(m.spec).then(
        (c) => {
          completer = c;
          const loadMs = performance.now() - started;
          send(ctag({ type: 'loaded', model: modelLabel(m.spec.model), fim: c.fim?.style ?? null, loadMs }));
        },
        (err) => {
          send(errorMessage(err));
          finish(1);
        },
      );
      return;
    }
    case 'complete': {
      if (!completer) {
        send(ctag({ type: 'error', id: m.id, cause: 'protocol', message: 'no model loaded yet' }));
        return;
      }
      const controller = new AbortController();
      running.set(m.id, controller);
      completer.complete(m.request, controller.signal).then(
        (c) => {
          running.delete(m.id);
          if (c.stop === 'superseded' || c.stop === 'cancelled') {
            send(ctag({ type: 'result', id: m.id, completion: null }));
            return;
          }
          if (c.note) send(ctag({ type: 'log', level: 'info', message: `request ${m.id}: ${c.note}` }));
          // Watching the outputs: a secret the model learned is masked before it leaves the worker.
          const watched = maskOutput(c.text);
          send(
            ctag({
              type: 'result',
              id: m.id,
              completion: { ...c, text: watched.text, masked: watched.masked },
            }),
          );
        },
        (err) => {
          running.delete(m.id);
          send(errorMessage(err, m.id));
        },
      );
      return;
    }
    case 'cancel':
      running.get(m.id)?.abort();
      return;
    case 'health':
      send(ctag({ type: 'pong', id: m.id, rss: process.memoryUsage().rss, busy: running.size > 0 }));
      return;
  }
}

function finish(code: number): void {
  if (process.connected) process.disconnect();
  process.exitCode = code;
  setTimeout(() => process.exit(code), 200).unref();
}

if (!process.send) {
  process.stderr.write('localtune completion worker: start me with child_process.fork (no IPC channel)\n');
  process.exit(2);
}
process.on('message', onMessage);
process.on('disconnect', () => process.exit(0));
process.on('uncaughtException', (err) => {
  send(errorMessage(err));
  finish(1);
});
send(ctag({ type: 'ready', pid: process.pid }));
