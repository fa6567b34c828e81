/** The Playground page's small DOM builders: text only through textContent (never as HTML). */
import type { PlaygroundModelView, PlaygroundReplyView, PlaygroundSide } from '../protocol';

export function el(
  tag: string,
  attrs: Record<string, string> = {},
  children: (Node | string)[] = [],
): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

const SIDE_NAMES: Record<PlaygroundSide, string> = { base: 'Base', tuned: 'Tuned' };

/** "Base: SmolLM2 · loading" in the header. */
export function sideHeader(side: PlaygroundSide, m: PlaygroundModelView): HTMLElement {
  const state =
    m.state === 'ready' ? '' : m.state === 'loading' ? ' · loading…' : ` · failed: ${m.error ?? ''}`;
  return el('span', { class: `model ${side} ${m.state}` }, [
    el('b', {}, [`${SIDE_NAMES[side]}: `]),
    m.label + state,
  ]);
}

/** One side's reply: its text as it streams, then tokens, tokens/s and why it stopped. */
export function replyBlock(
  side: PlaygroundSide,
  label: string,
  r: PlaygroundReplyView | undefined,
): HTMLElement {
  const head = el('div', { class: 'who' }, [`${SIDE_NAMES[side]} · ${label}`]);
  if (!r) return el('article', { class: `reply ${side}` }, [head, el('pre', { class: 'none' }, ['—'])]);
  const body = el('pre', {}, [r.text || (r.done ? '(nothing)' : '…')]);
  const meta: string[] = [];
  if (!r.done) meta.push('answering…');
  if (r.tokens !== undefined) meta.push(`${r.tokens} tokens`);
  if (r.tokensPerSecond !== undefined) meta.push(`${r.tokensPerSecond.toFixed(1)} tokens/s`);
  if (r.stop)
    meta.push(r.stop === 'aborted' ? 'stopped' : r.stop === 'eos' ? 'end of turn' : r.stop.replace('_', ' '));
  const parts: HTMLElement[] = [head, body, el('div', { class: 'meta' }, [meta.join(' · ')])];
  if (r.masked)
    parts.push(el('div', { class: 'masked-note' }, [`${r.masked} secret${r.masked > 1 ? 's' : ''} masked`]));
  if (r.error) parts.push(el('div', { class: 'error' }, [r.error]));
  return el('article', { class: `reply ${side}${r.done ? '' : ' streaming'}` }, parts);
}
