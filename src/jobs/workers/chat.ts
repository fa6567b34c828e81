/**
 * The chat worker (`dist/worker/chat.js`): long-lived, forked by ChatClient for the Playground and
 * the editor's chat. It holds models by slot (loading a slot again replaces its model) and streams
 * replies; two slots answer at the same time (ONNX Runtime runs off the main thread). It exits when
 * the host goes away.
 */
import { isUserError } from '../../engine/errors';
import { ChatModel } from '../chatModel';
import { chatTag, CHAT_PROTOCOL_VERSION, isChatHostMessage, type ChatWorkerMessage } from '../chatProtocol';

const models = new Map<string, Promise<ChatModel>>();
const running = new Map<number, AbortController>();

function send(m: ChatWorkerMessage): void {
  if (process.connected) process.send!(m);
}

function fail(id: number | undefined, err: unknown): void {
  const e = err as Error;
  const user = isUserError(err);
  send(
    chatTag({
      type: 'error' as const,
      id,
      cause: user ? ('user' as const) : ('internal' as const),
      message: e?.message ?? String(err),
      stack: user ? undefined : e?.stack,
    }),
  );
}

function slotModel(id: number, slot: string): Promise<ChatModel> | undefined {
  const model = models.get(slot);
  if (!model)
    send(chatTag({ type: 'error', id, cause: 'protocol', message: `no model loaded in slot "${slot}"` }));
  return model;
}

function onMessage(m: unknown): void {
  if (!isChatHostMessage(m)) {
    const message = `chat worker speaks protocol v${CHAT_PROTOCOL_VERSION}; got ${JSON.stringify(m).slice(0, 200)}`;
    send(chatTag({ type: 'error', cause: 'protocol', message }));
    return;
  }
  switch (m.type) {
    case 'load': {
      const started = performance.now();
      // No spinning: the worker shares the cores with the editor (see DecoderSessionOptions.spin).
      const model = ChatModel.load(m.source, { dtype: m.dtype, spin: false });
      models.set(m.slot, model);
      model.then(
        (c) =>
          send(
            chatTag({
              type: 'loaded',
              id: m.id,
              label: c.label,
              chat: c.template !== null,
              loadMs: performance.now() - started,
            }),
          ),
        (err) => {
          if (models.get(m.slot) === model) models.delete(m.slot);
          fail(m.id, err);
        },
      );
      return;
    }
    case 'reply': {
      const controller = new AbortController();
      running.set(m.id, controller);
      slotModel(m.id, m.slot)
        ?.then((model) =>
          model.reply(m.messages, m.sampling, {
            signal: controller.signal,
            onText: (text, stable) => send(chatTag({ type: 'text', id: m.id, text, stable })),
          }),
        )
        .then(
          (reply) => send(chatTag({ type: 'done', id: m.id, reply })),
          (err) => fail(m.id, err),
        )
        .finally(() => running.delete(m.id));
      return;
    }
    case 'cancel':
      running.get(m.id)?.abort();
      return;
    case 'count':
      slotModel(m.id, m.slot)?.then(
        (model) => send(chatTag({ type: 'counted', id: m.id, tokens: model.countTokens(m.text) })),
        (err) => fail(m.id, err),
      );
      return;
  }
}

if (!process.send) {
  process.stderr.write('localtune chat worker: start me with child_process.fork (no IPC channel)\n');
  process.exit(2);
}
process.on('message', onMessage);
process.on('disconnect', () => process.exit(0));
process.on('uncaughtException', (err) => {
  fail(undefined, err);
  if (process.connected) process.disconnect();
  setTimeout(() => process.exit(1), 200).unref();
});
send(chatTag({ type: 'ready', pid: process.pid }));
