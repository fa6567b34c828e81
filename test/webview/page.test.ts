// The built dashboard page in headless Chromium (real browser, real CSP; only the VS Code host
// bridge is played by the test): it draws what it is sent, acknowledges it, and its buttons post.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import type { WebviewMessage } from '../../webview/protocol';
import { missingPrerequisite, openDashboard, syntheticRun, toJsonl, type DashboardPage } from './harness';

const skip = missingPrerequisite();
const artifacts = join(__dirname, '..', '..', 'test-artifacts', 'webview');
const RUN = '/ws/.localtune/runs/run-a';

/** Per chart canvas: how many pixels are not background (not transparent). */
async function inkPerCanvas(d: DashboardPage): Promise<number[]> {
  return d.page.evaluate(() =>
    [...document.querySelectorAll<HTMLCanvasElement>('.uplot canvas')].map((c) => {
      const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let ink = 0;
      for (let i = 3; i < px.length; i += 4) if (px[i] > 0) ink++;
      return ink;
    }),
  );
}

test('the page draws 1,000 live events and acknowledges every point', { skip }, async (t) => {
  const d = await openDashboard({ theme: 'dark' });
  t.after(() => d.close());
  await d.send({
    type: 'load',
    primary: RUN,
    runs: [{ runDir: RUN, title: 'run-a', metricsText: '', live: [] }],
  });
  const events = syntheticRun(1000, { evalEvery: 50 }).map((e) =>
    e.type === 'step' ? { ...e, totalSteps: 2000 } : e,
  );
  for (let i = 0; i < events.length; i += 100)
    await d.send({ type: 'events', batches: [{ runDir: RUN, events: events.slice(i, i + 100) }] });
  await d.send({
    type: 'events',
    batches: [{ runDir: RUN, events: [{ type: 'heartbeat', rss: 700 * 2 ** 20 }] }],
  });
  const ack = await d.waitForAck(1020);
  assert.deepEqual(ack.runs[RUN], { points: 1020, lastStep: 1000 });

  const ink = await inkPerCanvas(d);
  assert.equal(ink.length, 3, 'three charts');
  for (const n of ink) assert.ok(n > 1000, `a chart drew (${ink})`);
  const header = await d.page.locator('header').innerText();
  assert.match(header, /running/);
  assert.match(header, /Step\s+1000 \/ 2000/);
  assert.match(header, /ETA\s+10m 00s/); // 0.6 s per step, 1000 steps to go
  assert.match(header, /Memory\s+700 MB/);
  const disabled = (action: string) =>
    d.page.locator(`vscode-button[data-action="${action}"]`).evaluate((b) => b.hasAttribute('disabled'));
  assert.equal(await disabled('stop'), false);
  assert.equal(await disabled('resume'), true);

  mkdirSync(artifacts, { recursive: true });
  await d.page.screenshot({ path: join(artifacts, 'dashboard-dark.png'), fullPage: true });

  await d.page.locator('vscode-button[data-action="stop"]').click();
  await d.page.locator('vscode-button[data-action="csv"]').click();
  await d.page.locator('vscode-button[data-action="compare"]').click();
  const posted = await d.posted();
  assert.ok(posted.some((m) => m.type === 'stop'));
  assert.ok(posted.some((m) => m.type === 'compare'));
  const csv = posted.find((m): m is WebviewMessage & { type: 'saveCsv' } => m.type === 'saveCsv');
  assert.equal(csv?.fileName, 'run-a-metrics.csv');
  assert.equal(csv?.csv.trimEnd().split('\n').length, 1 + 1000);
  assert.deepEqual(d.problems, []);
});

test(
  'restore: metrics.jsonl with a truncated last line, another run overlaid, light and high-contrast themes',
  { skip },
  async (t) => {
    const d = await openDashboard({ theme: 'light' });
    t.after(() => d.close());
    const other = '/ws/.localtune/runs/run-b';
    const a = toJsonl(syntheticRun(600, { evalEvery: 40 })) + '{"type":"step","step":601,"tot';
    const b = toJsonl(
      syntheticRun(400, { evalEvery: 40, seed: 9 }).map((e) =>
        e.type === 'step' ? { ...e, loss: e.loss * 0.8, lr: e.lr / 2 } : e,
      ),
    );
    await d.send({
      type: 'load',
      primary: RUN,
      runs: [
        { runDir: RUN, title: 'run-a', metricsText: a, live: [] },
        { runDir: other, title: 'run-b', metricsText: b, live: [] },
      ],
    });
    const ack = await d.waitForAck(615 + 410);
    assert.deepEqual(ack.runs, {
      [RUN]: { points: 615, lastStep: 600 },
      [other]: { points: 410, lastStep: 400 },
    });
    const state = await d.page.evaluate(() =>
      (window as unknown as { acquireVsCodeApi(): { getState(): unknown } }).acquireVsCodeApi().getState(),
    );
    assert.deepEqual(state, { runDirs: [RUN, other] });
    const header = await d.page.locator('header').innerText();
    assert.match(header, /finished/);
    for (const n of await inkPerCanvas(d)) assert.ok(n > 1000);
    await d.page.screenshot({ path: join(artifacts, 'dashboard-compare-light.png'), fullPage: true });

    await d.setTheme('high-contrast');
    await d.page.waitForTimeout(100);
    await d.page.screenshot({ path: join(artifacts, 'dashboard-compare-hc.png'), fullPage: true });

    await d.page.locator('.runs button').click(); // remove run-b from the comparison
    await d.waitForAck(615);
    assert.ok((await d.posted()).some((m) => m.type === 'removeRun' && m.runDir === other));
    assert.deepEqual(d.problems, []);
  },
);

before(() => {
  if (skip) console.log(`# skipped: ${skip}`);
});

/** The dashboard (dark theme) with one finished ten-step run loaded; closed after the test. */
async function dashboardOfFinishedRun(t: { after: (fn: () => unknown) => void }): Promise<DashboardPage> {
  const d = await openDashboard({ theme: 'dark' });
  t.after(() => d.close());
  await d.send({
    type: 'load',
    primary: RUN,
    runs: [{ runDir: RUN, title: 'run-a', metricsText: toJsonl(syntheticRun(10)), live: [] }],
  });
  return d;
}

test(
  'the run buttons post typed run actions (the host dispatches each to its handler)',
  { skip },
  async (t) => {
    const d = await dashboardOfFinishedRun(t);
    await d.send({ type: 'evaluation', report: null });
    await d.page.locator('vscode-button[data-action="evaluate"]').click();
    await d.page.locator('vscode-button[data-action="export"]').click();
    const actions = (await d.posted()).filter((m) => m.type !== 'ready' && m.type !== 'ack');
    assert.deepEqual(actions, [{ type: 'evaluate' }, { type: 'export' }]);
    assert.deepEqual(d.problems, []);
  },
);

test(
  'a chat run’s evaluation: the note names the held-out conversations, the table has their loss',
  { skip },
  async (t) => {
    const d = await dashboardOfFinishedRun(t);
    const side = { validationLoss: 1.25, perplexity: 3.49, validationTokens: 40, completion: null };
    await d.send({
      type: 'evaluation',
      verdict: 'better',
      report: {
        version: 1,
        createdAt: '2026-01-01T00:00:00Z',
        model: '/models/base',
        adapter: `${RUN}/model`,
        dataset: { dir: '/ws/.localtune/datasets/faq', name: 'faq', heldOutFiles: 0, validationTokens: 40 },
        seed: 0,
        base: { ...side, validationLoss: 9.5, perplexity: 13360 },
        tuned: side,
        samples: [],
        dataSummary: '',
        seconds: 3,
        chat: {
          source: '4 held-out conversations of faq',
          conversations: 4,
          base: { loss: 9.5, perplexity: 13360, tokens: 40 },
          tuned: { loss: 1.25, perplexity: 3.49, tokens: 40 },
          samples: [
            { where: '/ws/faq.csv:3', prompt: 'Hi?', expected: 'Hello.', base: 'zz', tuned: 'Hello.' },
          ],
          masked: 0,
        },
      },
    });
    const section = d.page.locator('.evaluation');
    assert.equal(
      await section.locator('p.note').textContent(),
      'On 4 held-out conversations of faq, seed 0.',
    );
    assert.equal(
      await section.locator('[data-verdict]').textContent(),
      'Better than the base model on held-out conversations.',
    );
    // No held-out file, no completion benchmark: its rows are left out rather than shown as n/a.
    assert.equal(await section.locator('tr', { hasText: 'completion' }).count(), 0);
    const row = section.locator('tr', { hasText: 'held-out conversations loss' });
    assert.deepEqual(await row.locator('td').allTextContents(), ['9.500', '1.250']);
    await d.page.screenshot({ path: join(artifacts, 'dashboard-chat-evaluation.png'), fullPage: true });
    assert.deepEqual(d.problems, []);
  },
);
