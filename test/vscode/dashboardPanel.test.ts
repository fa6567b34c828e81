// DashboardPanel's routing, against a minimal stand-in for the `vscode` module (the real one
// exists only in an extension host; the e2e tests cover the panel in a real VS Code): the page's
// `ready` gets metrics.jsonl plus the live events it lacks, live events are batched, the buttons
// become onDidRequest events, acks feed debugState, the serializer restores from the runDir list.
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { HostMessage, WebviewMessage } from '../../webview/protocol';
import { syntheticRun, toJsonl } from '../webview/harness';

type Listener<T> = (e: T) => void;
class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  event = (l: Listener<T>) => {
    this.listeners.push(l);
    return { dispose: () => (this.listeners = this.listeners.filter((x) => x !== l)) };
  };
  fire(e: T) {
    for (const l of this.listeners) l(e);
  }
}

/** A webview panel as the dashboard uses it: the page side is the test. */
class FakePanel {
  title: string;
  visible = true;
  readonly sent: HostMessage[] = [];
  readonly fromPage = new EventEmitter<WebviewMessage>();
  readonly disposed = new EventEmitter<void>();
  readonly viewState = new EventEmitter<void>();
  webview = {
    html: '',
    options: {} as Record<string, unknown>,
    cspSource: 'vscode-resource:',
    asWebviewUri: (u: { path: string }) => ({ toString: () => `vscode-resource:${u.path}` }),
    postMessage: async (m: HostMessage) => {
      this.sent.push(m);
      return true;
    },
    onDidReceiveMessage: this.fromPage.event,
  };
  onDidDispose = this.disposed.event;
  onDidChangeViewState = this.viewState.event;
  constructor(title: string) {
    this.title = title;
  }
  reveal() {}
  dispose() {
    this.disposed.fire();
  }
}

const created: FakePanel[] = [];
let serializer: { deserializeWebviewPanel(p: FakePanel, state: unknown): Promise<void> } | undefined;
const vscodeStub = {
  EventEmitter,
  ViewColumn: { Active: -1 },
  Uri: {
    file: (path: string) => ({ path, fsPath: path }),
    joinPath: (u: { path: string }, ...parts: string[]) => ({ path: [u.path, ...parts].join('/') }),
  },
  window: {
    createWebviewPanel: (_type: string, title: string, _col: number, options: Record<string, unknown>) => {
      const p = new FakePanel(title);
      p.webview.options = options;
      created.push(p);
      return p;
    },
    registerWebviewPanelSerializer: (_type: string, s: typeof serializer) => {
      serializer = s;
      return { dispose() {} };
    },
    showInformationMessage: async () => undefined,
  },
};
const load = (Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown })._load;
(Module as unknown as { _load: typeof load })._load = function (request: string, ...rest: unknown[]) {
  return request === 'vscode' ? vscodeStub : load.call(this, request, ...rest);
};
// Loaded after the stand-in is in place (a static import would be hoisted above it).
type PanelModule = typeof import('../../src/vscode/dashboardPanel');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { DashboardPanel }: PanelModule = require('../../src/vscode/dashboardPanel');

const root = mkdtempSync(join(tmpdir(), 'localtune-dashboard-'));
after(() => rmSync(root, { recursive: true, force: true }));
const extensionUri = { path: '/ext', fsPath: '/ext' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('ready → the file plus the live tail; live events batched; requests and acks routed', async () => {
  const runDir = join(root, 'runs', 'a');
  mkdirSync(runDir, { recursive: true });
  const events = syntheticRun(300, { evalEvery: 100 }); // 303 lines
  const stepOf = (e: (typeof events)[number]) => (e.type === 'step' || e.type === 'eval' ? e.step : 0);
  const upTo = (from: number, to: number) => events.filter((e) => stepOf(e) > from && stepOf(e) <= to);
  writeFileSync(join(runDir, 'metrics.jsonl'), toJsonl(upTo(0, 200)));

  const panel = DashboardPanel.show(extensionUri as never, { runDir, title: 'Run a' });
  const page = created.at(-1)!;
  assert.equal(
    DashboardPanel.show(extensionUri as never, { runDir, title: 'Run a' }),
    panel,
    'one panel per run',
  );
  assert.equal(DashboardPanel.forRun(runDir), panel);
  assert.match(page.webview.html, /Content-Security-Policy/);
  assert.match(page.webview.html, /script-src 'nonce-[0-9a-f]{32}'/);
  assert.deepEqual(
    (page.webview.options.localResourceRoots as { path: string }[]).map((u) => u.path),
    ['/ext/dist/webview', '/ext/media'],
  );
  assert.equal(page.webview.options.retainContextWhenHidden, false);

  // live events before the page is ready: kept, not sent
  for (const e of upTo(150, 208)) panel.post(e); // 151..200 are in the file already
  await sleep(150);
  assert.equal(page.sent.length, 0);

  page.fromPage.fire({ type: 'ready' });
  await sleep(50);
  const first = page.sent[0];
  assert.equal(first?.type, 'load');
  if (first.type !== 'load') return;
  assert.equal(first.primary, runDir);
  assert.equal(first.runs[0].metricsText.split('\n').length - 1, 202);
  assert.deepEqual(
    first.runs[0].live.map((e) => (e.type === 'step' ? e.step : -1)),
    Array.from({ length: 8 }, (_, i) => 201 + i),
  );

  appendFileSync(join(runDir, 'metrics.jsonl'), toJsonl(upTo(200, 208))); // the trainer's writes catch up

  // live: many posts, few messages
  const t0 = Date.now();
  for (const e of upTo(208, 300)) {
    appendFileSync(join(runDir, 'metrics.jsonl'), JSON.stringify(e) + '\n');
    panel.post(e);
  }
  await sleep(250);
  const batches = page.sent.slice(1);
  assert.ok(batches.length >= 1 && batches.length <= 3, `${batches.length} messages`);
  const delivered = batches.flatMap((m) => (m.type === 'events' ? m.batches.flatMap((b) => b.events) : []));
  assert.equal(delivered.length, 303 - 202 - 8);
  assert.ok(Date.now() - t0 >= 100);

  page.fromPage.fire({
    type: 'ack',
    points: 303,
    runs: { [runDir]: { points: 303, lastStep: 300 } },
    drawMs: 4,
  });
  assert.deepEqual(DashboardPanel.debugState(runDir), { points: 303, lastStep: 300, panels: 1, drawMs: 4 });
  assert.equal(DashboardPanel.debugState(join(root, 'runs', 'none')), undefined);

  const requests: unknown[] = [];
  const sub = DashboardPanel.onDidRequest((r) => requests.push(r));
  page.fromPage.fire({ type: 'request', command: 'stop' });
  sub.dispose();
  assert.deepEqual(requests, [{ command: 'stop', runDir }]);

  // hidden then shown again: the page is new and says ready; everything comes from the file now
  page.visible = false;
  page.viewState.fire();
  page.fromPage.fire({ type: 'ready' });
  await sleep(50);
  const reload = page.sent.at(-1)!;
  assert.equal(reload.type, 'load');
  if (reload.type === 'load') {
    assert.equal(reload.runs[0].live.length, 0);
    assert.equal(reload.runs[0].metricsText.split('\n').length - 1, 303);
  }
  page.dispose();
  assert.equal(DashboardPanel.forRun(runDir), undefined);
});

test('the serializer restores a dashboard from its runDir list', async () => {
  const a = join(root, 'runs', 'r1');
  const b = join(root, 'runs', 'r2');
  for (const d of [a, b]) {
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'metrics.jsonl'), toJsonl(syntheticRun(5)));
  }
  DashboardPanel.registerSerializer({ extensionUri } as never);
  const page = new FakePanel('Run r1');
  await serializer!.deserializeWebviewPanel(page, { runDirs: [a, b] });
  assert.ok(DashboardPanel.forRun(a));
  page.fromPage.fire({ type: 'ready' });
  await sleep(50);
  const m = page.sent[0];
  assert.equal(m?.type, 'load');
  if (m?.type === 'load')
    assert.deepEqual(
      m.runs.map((r) => [r.runDir, r.title]),
      [
        [a, 'Run r1'],
        [b, 'r2'],
      ],
    );

  const empty = new FakePanel('old');
  let disposed = false;
  empty.onDidDispose(() => (disposed = true));
  await serializer!.deserializeWebviewPanel(empty, undefined);
  assert.ok(disposed, 'nothing to restore: the panel closes');
  page.dispose();
});
