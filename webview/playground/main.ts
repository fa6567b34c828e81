/**
 * The Playground page (bundled to dist/webview/playground.js): draws the view the host sends
 * (webview/protocol.ts `PlaygroundView`) and sends the user's actions back. Browser only. The
 * composer and settings are built once (focus and typing survive updates); the transcript is
 * redrawn from each view. Keyboard: Ctrl/Cmd+Enter sends, Escape stops; every control is tabbable.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textarea/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-label/index.js';
import type {
  PlaygroundHostMessage,
  PlaygroundPageMessage,
  PlaygroundSettings,
  PlaygroundSide,
  PlaygroundView,
} from '../protocol';
import { el, replyBlock, sideHeader } from './render';

declare function acquireVsCodeApi(): { postMessage(message: PlaygroundPageMessage): void };

const vscode = acquireVsCodeApi();
const app = document.getElementById('app') ?? document.body;
const SIDES: PlaygroundSide[] = ['base', 'tuned'];
type Field = HTMLElement & { value: string };

const header = el('header', {}, [el('h1', {}, ['Playground'])]);
const models = el('div', { class: 'models' });
const masked = el('span', { class: 'masked', title: 'Secrets masked in model outputs in this workspace' });
header.append(models, masked);

const field = (tag: string, label: string, id: string, attrs: Record<string, string> = {}) => {
  const f = el(tag, { id, ...attrs }) as Field;
  return { f, row: el('div', { class: 'field' }, [el('vscode-label', { for: id }, [label]), f]) };
};
const temperature = field('vscode-textfield', 'Temperature', 'temperature', {
  type: 'number',
  min: '0',
  step: '0.1',
});
const topP = field('vscode-textfield', 'Top-p', 'top-p', {
  type: 'number',
  min: '0',
  max: '1',
  step: '0.05',
});
const maxTokens = field('vscode-textfield', 'Max tokens', 'max-tokens', {
  type: 'number',
  min: '1',
  step: '1',
});
const seed = field('vscode-textfield', 'Seed', 'seed', { type: 'number', min: '0', step: '1' });
const system = field('vscode-textarea', 'System prompt', 'system', {
  rows: '2',
  placeholder: 'Optional: how the assistant should behave',
});
const settingsRow = el(
  'div',
  { class: 'settings', role: 'group', 'aria-label': 'Sampling, the same for both models' },
  [temperature.row, topP.row, maxTokens.row, seed.row],
);
const transcript = el('main', { class: 'transcript', 'aria-live': 'polite' });
const prompt = el('vscode-textarea', {
  id: 'prompt',
  rows: '3',
  'aria-label': 'Message',
  placeholder: 'Message both models (Ctrl+Enter to send)',
}) as Field;
const button = (label: string, id: string, secondary = false) =>
  el('vscode-button', { id, ...(secondary ? { secondary: '' } : {}) }, [label]) as HTMLElement & {
    disabled: boolean;
  };
const send = button('Send', 'send');
const stop = button('Stop', 'stop', true);
const clear = button('New', 'new', true);
const save = button('Save', 'save', true);
const open = button('Open…', 'open', true);
const notice = el('div', { class: 'notice', role: 'status' });
const composer = el('footer', {}, [
  prompt,
  el('div', { class: 'buttons' }, [send, stop, clear, save, open]),
  notice,
]);
app.append(header, settingsRow, system.row, transcript, composer);

function settings(): PlaygroundSettings {
  const num = (f: Field, fallback: number) =>
    Number.isFinite(Number(f.value)) && f.value !== '' ? Number(f.value) : fallback;
  return {
    temperature: Math.max(0, num(temperature.f, 0)),
    topP: Math.min(1, Math.max(0.01, num(topP.f, 1))),
    maxTokens: Math.max(1, Math.round(num(maxTokens.f, 128))),
    seed: Math.max(0, Math.round(num(seed.f, 0))),
  };
}

function ask(): void {
  const text = prompt.value;
  if (!text.trim() || send.disabled) return;
  vscode.postMessage({ type: 'ask', text, system: system.f.value, settings: settings() });
  prompt.value = '';
}

send.addEventListener('click', ask);
stop.addEventListener('click', () => vscode.postMessage({ type: 'stop' }));
clear.addEventListener('click', () => vscode.postMessage({ type: 'clear' }));
save.addEventListener('click', () => vscode.postMessage({ type: 'save' }));
open.addEventListener('click', () => vscode.postMessage({ type: 'open' }));
document.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    ask();
  } else if (e.key === 'Escape') vscode.postMessage({ type: 'stop' });
});

let first = true;
function draw(v: PlaygroundView): void {
  models.replaceChildren(...SIDES.filter((s) => v.models[s]).map((s) => sideHeader(s, v.models[s]!)));
  masked.textContent = `Outputs masked: ${v.maskedTotal}`;
  masked.classList.toggle('some', v.maskedTotal > 0);
  system.row.hidden = !v.chat;
  prompt.setAttribute(
    'placeholder',
    v.chat ? 'Message both models (Ctrl+Enter to send)' : 'A prompt for both models to continue (Ctrl+Enter)',
  );
  if (first) {
    // Fill the fields once; afterwards they are the user's.
    temperature.f.value = String(v.settings.temperature);
    topP.f.value = String(v.settings.topP);
    maxTokens.f.value = String(v.settings.maxTokens);
    seed.f.value = String(v.settings.seed);
    first = false;
  }
  if (document.activeElement !== system.f) system.f.value = v.system;
  const sides = SIDES.filter((s) => v.models[s]);
  transcript.replaceChildren(
    ...v.turns.map((t, i) =>
      el('section', { class: 'turn', 'aria-label': `Turn ${i + 1}` }, [
        el('div', { class: 'user' }, [
          el('span', { class: 'who' }, [v.chat ? 'You' : 'Prompt']),
          el('pre', {}, [t.user]),
        ]),
        el(
          'div',
          { class: `replies n${sides.length}` },
          sides.map((s) => replyBlock(s, v.models[s]!.label, t.replies[s])),
        ),
      ]),
    ),
  );
  if (v.turns.length === 0)
    transcript.append(
      el('p', { class: 'empty' }, [
        v.chat
          ? 'Ask something: both models answer side by side, with the same settings.'
          : 'These models have no chat template: write a prompt for both to continue.',
      ]),
    );
  send.disabled = v.busy || !sides.some((s) => v.models[s]!.state === 'ready');
  stop.disabled = !v.busy;
  notice.textContent = v.notice ?? (v.file ? `Conversation: ${v.file}` : '');
  // Follow the newest text (the composer stays at the bottom of the window).
  window.scrollTo(0, document.body.scrollHeight);
}

window.addEventListener('message', (e: MessageEvent<PlaygroundHostMessage>) => {
  if (e.data?.type === 'view') draw(e.data.view);
});
vscode.postMessage({ type: 'ready' });
prompt.focus();
