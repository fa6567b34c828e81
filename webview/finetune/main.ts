/**
 * The Fine-tune form's page (bundled by scripts/build.mjs to dist/webview/finetune.js): model,
 * dataset, run name, preset, every hyperparameter, and the pre-flight estimate the host measures.
 * Browser only; it speaks to the host through postMessage (webview/protocol.ts).
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import '@vscode-elements/elements/dist/vscode-label/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { FinetuneHostMessage, FinetunePageMessage } from '../protocol';
import { FinetuneForm } from './form';

declare function acquireVsCodeApi(): { postMessage(message: FinetunePageMessage): void };

const vscode = acquireVsCodeApi();
const form = new FinetuneForm(document.getElementById('app') ?? document.body, (m) => vscode.postMessage(m));
window.addEventListener('message', (e: MessageEvent<FinetuneHostMessage>) => form.onMessage(e.data));
vscode.postMessage({ type: 'ready' });
