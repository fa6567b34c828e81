/**
 * The dashboard page's HTML (used by the host, and by the headless-browser test and benchmark).
 * Strict CSP: no inline script or style without the nonce, nothing remote; the script, uPlot's
 * CSS (emitted beside the bundle) and the theme CSS come from the extension's own folders.
 */
export interface DashboardPageUris {
  /** The webview's `cspSource` (VS Code's resource origin). */
  cspSource: string;
  nonce: string;
  /** dist/webview/main.js */
  script: string;
  /** dist/webview/main.css (uPlot's styles) and media/dashboard.css */
  styles: string[];
  /** The document title (default: the dashboard's); the Fine-tune form's page uses this shell too. */
  title?: string;
}

export function dashboardHtml(p: DashboardPageUris): string {
  const csp = [
    "default-src 'none'",
    `img-src ${p.cspSource} data:`,
    `font-src ${p.cspSource}`,
    `style-src ${p.cspSource} 'nonce-${p.nonce}'`,
    `script-src 'nonce-${p.nonce}'`,
  ].join('; ');
  const links = p.styles.map((s) => `<link rel="stylesheet" href="${s}" nonce="${p.nonce}">`).join('\n    ');
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <meta http-equiv="Content-Security-Policy" content="${csp}">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    ${links}
    <title>${p.title ?? 'Training dashboard'}</title>
  </head>
  <body>
    <div id="app"></div>
    <script nonce="${p.nonce}" src="${p.script}"></script>
  </body>
</html>`;
}

/** 32 characters from an unguessable source (crypto.getRandomValues exists in Node and browsers). */
export function makeNonce(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
