/**
 * The dashboard webview's entry (bundled by scripts/build.mjs to dist/webview/main.js, an IIFE).
 * Browser only: no Node modules, no `vscode`; it speaks to the host through postMessage.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { Dashboard } from './dashboard';
import type { DashboardState, HostMessage, WebviewMessage } from './protocol';

declare function acquireVsCodeApi(): {
  postMessage(message: WebviewMessage): void;
  getState(): DashboardState | undefined;
  setState(state: DashboardState): void;
};

const vscode = acquireVsCodeApi();
const dashboard = new Dashboard(document.getElementById('app') ?? document.body, vscode);
window.addEventListener('message', (e: MessageEvent<HostMessage>) => dashboard.onMessage(e.data));
vscode.postMessage({ type: 'ready' });
