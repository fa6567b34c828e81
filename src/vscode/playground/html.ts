/**
 * The Playground page's HTML: strict CSP (script and styles only from the extension's own folders,
 * with a nonce; nothing remote), theme colours through media/playground.css.
 */
import { makeNonce } from '../dashboard/html';

export function playgroundHtml(p: { cspSource: string; script: string; styles: string[] }): string {
  const nonce = makeNonce();
  const csp = [
    "default-src 'none'",
    `font-src ${p.cspSource}`,
    `style-src ${p.cspSource} 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  const links = p.styles.map((s) => `<link rel="stylesheet" href="${s}" nonce="${nonce}">`).join('\n    ');
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <meta http-equiv="Content-Security-Policy" content="${csp}">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    ${links}
    <title>Playground</title>
  </head>
  <body>
    <div id="app"></div>
    <script nonce="${nonce}" src="${p.script}"></script>
  </body>
</html>`;
}
