/**
 * Frame time of the training dashboard with 100,000 steps, in headless Chromium (/usr/bin/chromium,
 * software rendering: --disable-gpu), on the built page (dist/webview/main.js) as the panel serves it:
 *
 *   restore:  metrics.jsonl of N steps (+ an eval every 100) handed over as text: parse + first draw
 *   live:     then batches of 10 steps, as the host sends them (one per ~100 ms): each redraw
 *   zoom:     drag-select 10% of the steps on the loss chart: redraw at full resolution inside
 *   compare:  a second run of N steps overlaid: redraw of both
 *
 * `drawMs` is the page's own render (header, downsampling, uPlot drawing the three canvases);
 * `latencyMs` is from the host message's dispatch to the page's ack (includes waiting for the
 * next animation frame, up to 16.7 ms).
 *
 *   npx tsx bench/webview/frame.ts [--steps 100000] [--width 1200] [--batches 50]
 *
 * Prints one JSON document on stdout.
 */
import { parseArgs } from 'node:util';
import {
  missingPrerequisite,
  openDashboard,
  syntheticRun,
  toJsonl,
  type Ack,
} from '../../test/webview/harness';

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '100000' },
    width: { type: 'string', default: '1200' },
    batches: { type: 'string', default: '50' },
  },
});
const steps = Number(args.steps);
const batches = Number(args.batches);
const RUN = '/ws/.localtune/runs/run-a';
const OTHER = '/ws/.localtune/runs/run-b';

function summary(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => Number(s[Math.min(s.length - 1, Math.floor(q * s.length))].toFixed(2));
  return { median: at(0.5), p95: at(0.95), max: at(1), n: s.length };
}

async function main() {
  const missing = missingPrerequisite();
  if (missing) {
    console.log(JSON.stringify({ skipped: missing }));
    return;
  }
  const d = await openDashboard({ width: Number(args.width), height: 1000 });
  try {
    const timed = async (acked: number, send: () => Promise<number>) => {
      const after = (await d.posted()).length;
      const sentAt = await send();
      const ack: Ack = await d.waitForAck(acked, { after, timeoutMs: 120_000 });
      return { drawMs: ack.drawMs, latencyMs: ack.at - sentAt };
    };

    // restore: the whole file at once
    const history = syntheticRun(steps, { evalEvery: 100 });
    const totalSteps = steps + batches * 10;
    const text = toJsonl(history.map((e) => (e.type === 'step' ? { ...e, totalSteps } : e)));
    let points = steps + Math.floor(steps / 100);
    const restore = await timed(points, () =>
      d.send({
        type: 'load',
        primary: RUN,
        runs: [{ runDir: RUN, title: 'run-a', metricsText: text, live: [] }],
      }),
    );

    // live: small batches on top of the history
    const live = syntheticRun(batches * 10, { from: steps, seed: 3 }).map((e) =>
      e.type === 'step' ? { ...e, totalSteps } : e,
    );
    const liveRuns = [];
    for (let b = 0; b < batches; b++) {
      points += 10;
      liveRuns.push(
        await timed(points, () =>
          d.send({ type: 'events', batches: [{ runDir: RUN, events: live.slice(b * 10, b * 10 + 10) }] }),
        ),
      );
    }

    // zoom: drag across 10% of the loss chart's plot area
    const over = (await d.page.locator('.uplot .u-over').first().boundingBox())!;
    const y = over.y + over.height / 2;
    const zoom = await timed(points, async () => {
      const at = await d.page.evaluate(() => performance.now());
      await d.page.mouse.move(over.x + over.width * 0.45, y);
      await d.page.mouse.down();
      await d.page.mouse.move(over.x + over.width * 0.55, y, { steps: 4 });
      await d.page.mouse.up();
      return at;
    });
    await d.page.screenshot({ path: 'test-artifacts/webview/bench-zoomed.png', fullPage: true });
    await d.page.mouse.dblclick(over.x + over.width / 2, y); // back to all steps

    // compare: a second run as long as the first
    const otherText = toJsonl(syntheticRun(steps, { evalEvery: 100, seed: 11 }));
    const otherPoints = steps + Math.floor(steps / 100);
    const compare = await timed(points + otherPoints, () =>
      d.send({
        type: 'load',
        primary: RUN,
        runs: [{ runDir: OTHER, title: 'run-b', metricsText: otherText, live: [] }],
      }),
    );
    const compareLive = [];
    const more = syntheticRun(10 * 20, { from: steps + batches * 10, seed: 5 });
    for (let b = 0; b < 20; b++) {
      points += 10;
      compareLive.push(
        await timed(points + otherPoints, () =>
          d.send({ type: 'events', batches: [{ runDir: RUN, events: more.slice(b * 10, b * 10 + 10) }] }),
        ),
      );
    }
    await d.page.screenshot({ path: 'test-artifacts/webview/bench-100k.png', fullPage: true });
    const browser = d.page.context().browser()!.version();

    console.log(
      JSON.stringify(
        {
          browser: `Chromium ${browser}, headless, --disable-gpu`,
          steps,
          width: Number(args.width),
          metricsMB: Number((text.length / 2 ** 20).toFixed(1)),
          restore,
          live: {
            drawMs: summary(liveRuns.map((r) => r.drawMs)),
            latencyMs: summary(liveRuns.map((r) => r.latencyMs)),
          },
          zoom,
          compare: {
            load: compare,
            liveDrawMs: summary(compareLive.map((r) => r.drawMs)),
          },
          problems: d.problems,
        },
        null,
        2,
      ),
    );
  } finally {
    await d.close();
  }
}

void main();
