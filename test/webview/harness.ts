/**
 * Loads the built dashboard page (dist/webview/main.js) in headless Chromium, served over HTTP
 * with the same HTML and Content-Security-Policy the panel uses. The one stand-in is
 * `acquireVsCodeApi`: messages the page posts are recorded, and the test plays the host by
 * dispatching `message` events. Used by test/webview/page.test.ts and bench/webview/frame.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { dashboardHtml, makeNonce } from '../../src/vscode/dashboard/html';
import type { DashboardEvent, HostMessage, WebviewMessage } from '../../webview/protocol';

export const CHROMIUM = '/usr/bin/chromium';
const root = join(__dirname, '..', '..');
export const BUNDLE = join(root, 'dist/webview/main.js');

/** Why the browser tests cannot run here, or undefined when they can. */
export function missingPrerequisite(): string | undefined {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing (apt-get install -y chromium)`;
  if (!existsSync(BUNDLE)) return `${BUNDLE} is missing (node scripts/build.mjs)`;
  return undefined;
}

const DARK_CHARTS = {
  'charts-blue': '#3794ff',
  'charts-orange': '#d18616',
  'charts-green': '#89d185',
  'charts-purple': '#b180d7',
  'charts-red': '#f14c4c',
  'charts-yellow': '#cca700',
};

/** A subset of the variables VS Code sets on a webview's <html>, for three kinds of theme. */
const THEMES = {
  dark: {
    class: 'vscode-dark',
    vars: {
      foreground: '#cccccc',
      'editor-background': '#1f1f1f',
      descriptionForeground: '#9d9d9d',
      'editorWidget-border': '#454545',
      'panel-border': '#2b2b2b',
      'badge-background': '#616161',
      'badge-foreground': '#f8f8f8',
      'button-background': '#0078d4',
      'button-foreground': '#ffffff',
      'button-secondaryBackground': '#313131',
      'button-secondaryForeground': '#cccccc',
      focusBorder: '#0078d4',
      ...DARK_CHARTS,
    },
  },
  light: {
    class: 'vscode-light',
    vars: {
      foreground: '#3b3b3b',
      'editor-background': '#ffffff',
      descriptionForeground: '#717171',
      'editorWidget-border': '#c8c8c8',
      'panel-border': '#e5e5e5',
      'badge-background': '#cccccc',
      'badge-foreground': '#3b3b3b',
      'button-background': '#005fb8',
      'button-foreground': '#ffffff',
      'button-secondaryBackground': '#e5e5e5',
      'button-secondaryForeground': '#3b3b3b',
      focusBorder: '#005fb8',
      'charts-blue': '#1a85ff',
      'charts-orange': '#d18616',
      'charts-green': '#388a34',
      'charts-purple': '#652d90',
      'charts-red': '#e51400',
      'charts-yellow': '#bf8803',
    },
  },
  'high-contrast': {
    class: 'vscode-high-contrast',
    vars: {
      foreground: '#ffffff',
      'editor-background': '#000000',
      descriptionForeground: '#ffffff',
      contrastBorder: '#6fc3df',
      'badge-background': '#000000',
      'badge-foreground': '#ffffff',
      'button-background': '#000000',
      'button-foreground': '#ffffff',
      'button-border': '#6fc3df',
      focusBorder: '#f38518',
      ...DARK_CHARTS,
    },
  },
};
export type ThemeKind = keyof typeof THEMES;

export type Ack = WebviewMessage & { type: 'ack'; at: number };

export interface DashboardPage {
  page: Page;
  /** Plays the host: delivers a message to the page; returns the page's clock just before. */
  send(m: HostMessage): Promise<number>;
  /** Messages the page posted so far. */
  posted(): Promise<WebviewMessage[]>;
  /**
   * Waits for an ack reporting `points` in total, among the messages from index `after` on;
   * returns it with the page's clock when it was posted.
   */
  waitForAck(points: number, o?: { after?: number; timeoutMs?: number }): Promise<Ack>;
  /** CSP violations and console errors seen. */
  problems: string[];
  setTheme(kind: ThemeKind): Promise<void>;
  close(): Promise<void>;
}

/**
 * Runs in the page before its own script. Plain JavaScript in a string: functions handed to
 * Playwright are serialised, and tsx's helpers (`__name`) do not exist in the page.
 */
function initScript(theme: ThemeKind): string {
  return `
    const themes = ${JSON.stringify(THEMES)};
    const posted = [];
    const postedAt = [];
    let state;
    window.__posted = posted;
    window.__postedAt = postedAt;
    window.acquireVsCodeApi = () => ({
      postMessage: (m) => { posted.push(m); postedAt.push(performance.now()); },
      getState: () => state,
      setState: (s) => { state = s; },
    });
    document.addEventListener('securitypolicyviolation', (e) =>
      console.error('CSP blocked ' + e.blockedURI + ' (' + e.violatedDirective + ')'));
    // What VS Code does for a webview: theme variables on <html>, the theme kind as body class.
    window.__setTheme = (kind) => {
      const t = themes[kind];
      const style = document.documentElement.style;
      for (const [name, value] of Object.entries(t.vars)) style.setProperty('--vscode-' + name, value);
      style.setProperty('--vscode-font-family', 'system-ui, sans-serif');
      style.setProperty('--vscode-font-size', '13px');
      document.body.classList.remove('vscode-dark', 'vscode-light', 'vscode-high-contrast');
      document.body.classList.add(t.class);
    };
    document.addEventListener('DOMContentLoaded', () => window.__setTheme(${JSON.stringify(theme)}));
  `;
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.map': 'application/json',
};

/** Serves the page and the two folders the panel allows (dist/webview, media). */
function serve(): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (path === '/favicon.ico') {
      res.writeHead(204).end(); // a top-level page's request; a webview makes none
      return;
    }
    if (path === '/') {
      const origin = `http://${req.headers.host}`;
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(
        dashboardHtml({
          cspSource: origin,
          nonce: makeNonce(),
          script: `${origin}/dist/webview/main.js`,
          styles: [`${origin}/dist/webview/main.css`, `${origin}/media/dashboard.css`],
        }),
      );
      return;
    }
    const file = join(root, path);
    if (!(path.startsWith('/dist/webview/') || path.startsWith('/media/')) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
    ),
  );
}

export async function openDashboard(
  o: { theme?: ThemeKind; width?: number; height?: number } = {},
): Promise<DashboardPage> {
  const { server, origin } = await serve();
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
      ],
    });
    const page = await browser.newPage({ viewport: { width: o.width ?? 900, height: o.height ?? 900 } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
        problems.push(`console: ${m.text()}`);
    });
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.addInitScript(initScript(o.theme ?? 'dark'));
    await page.goto(origin + '/');
    const posted = () =>
      page.evaluate(() => (window as unknown as { __posted: WebviewMessage[] }).__posted.slice());
    await page
      .waitForFunction(
        () =>
          (window as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === 'ready'),
        undefined,
        { timeout: 15_000 },
      )
      .catch((err: Error) => {
        throw new Error(`the page never said ready: ${err.message}\n${problems.join('\n')}`);
      });
    return {
      page,
      problems,
      send: (m) =>
        page.evaluate((m) => {
          const at = performance.now();
          window.postMessage(m, '*');
          return at;
        }, m),
      posted,
      async waitForAck(points, { after = 0, timeoutMs = 30_000 } = {}) {
        const handle = await page.waitForFunction(
          ({ points, after }) => {
            const w = window as unknown as {
              __posted: { type: string; points?: number }[];
              __postedAt: number[];
            };
            for (let i = w.__posted.length - 1; i >= after; i--) {
              const m = w.__posted[i];
              if (m.type === 'ack' && m.points === points) return { ...m, at: w.__postedAt[i] };
            }
            return undefined;
          },
          { points, after },
          { timeout: timeoutMs, polling: 'raf' },
        );
        return (await handle.jsonValue()) as Ack;
      },
      setTheme: (kind) =>
        page.evaluate((k) => (window as unknown as { __setTheme(k: string): void }).__setTheme(k), kind),
      async close() {
        await browser?.close();
        server.close();
      },
    };
  } catch (err) {
    await browser?.close();
    server.close();
    throw err;
  }
}

/**
 * A plausible run: loss falling from ~4 with noise, linear warmup then cosine decay, tokens/s
 * around 850, one second per step; an eval every `evalEvery` steps.
 */
export function syntheticRun(
  steps: number,
  o: { evalEvery?: number; seed?: number; from?: number } = {},
): DashboardEvent[] {
  let seed = o.seed ?? 1;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const total = steps + (o.from ?? 0);
  const events: DashboardEvent[] = [];
  for (let step = (o.from ?? 0) + 1; step <= total; step++) {
    const progress = step / total;
    const warm = Math.min(1, step / (total * 0.05));
    events.push({
      type: 'step',
      step,
      totalSteps: total,
      loss: 1.2 + 2.8 * Math.exp(-5 * progress) + (rand() - 0.5) * 0.3,
      lr: 3e-4 * warm * 0.5 * (1 + Math.cos(Math.PI * progress)),
      gradNorm: 1 + rand(),
      tokens: step * 512,
      tokensPerSec: 850 + (rand() - 0.5) * 80,
      elapsed: step * 0.6,
    });
    if (o.evalEvery && step % o.evalEvery === 0)
      events.push({ type: 'eval', step, evalLoss: 1.3 + 2.8 * Math.exp(-5 * progress) });
  }
  return events;
}

/** Events as metrics.jsonl text. */
export function toJsonl(events: DashboardEvent[]): string {
  return events.map((e) => JSON.stringify(e) + '\n').join('');
}
