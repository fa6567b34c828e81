/**
 * The dashboard's evaluation section: the run's tuned model against its base on held-out files
 * (validation loss, perplexity, completion exact match, edit similarity, accepted characters,
 * latency), with buttons to (re)evaluate and to open the side-by-side samples.
 */
import { figureRows, type EvalReport } from '../src/eval/figures';
import type { RunActionMessage, Verdict, WebviewMessage } from './protocol';

/** The verdict in words; `on` is what it was judged on (held-out files, or conversations). */
const VERDICT_TEXT: Record<Verdict, (on: string) => string> = {
  better: (on) => `Better than the base model on ${on}.`,
  'no better': (on) => `No better than the base model on ${on}.`,
  worse: (on) => `Worse than the base model on ${on}: not recommended for completions.`,
};

export function renderEvaluation(
  section: HTMLElement,
  report: EvalReport | null,
  post: (m: WebviewMessage) => void,
  verdict: Verdict | null = null,
): void {
  const title = document.createElement('h2');
  title.textContent = 'Evaluation';
  title.style.fontSize = '1.1em';
  const note = document.createElement('p');
  note.className = 'note';
  const actions = document.createElement('div');
  actions.className = 'actions';
  const button = (
    label: string,
    action: 'evaluate' | 'samples',
    message: RunActionMessage & { type: 'evaluate' | 'showSamples' },
    secondary: boolean,
  ) => {
    const b = document.createElement('vscode-button');
    b.textContent = label;
    b.dataset.action = action;
    if (secondary) b.setAttribute('secondary', '');
    b.addEventListener('click', () => post(message));
    actions.append(b);
  };
  if (!report) {
    note.textContent =
      'Not evaluated yet: compare the tuned model with its base on files held out from training (loss, perplexity and completion accuracy).';
    button('Evaluate', 'evaluate', { type: 'evaluate' }, false);
    section.replaceChildren(title, note, actions);
    return;
  }
  const files = report.dataset.heldOutFiles;
  const onFiles = `${files} held-out file${files === 1 ? '' : 's'} of ${report.dataset.name} (never trained on), ${report.base.completion?.spans ?? 0} masked spans`;
  // A chat dataset is judged on its held-out conversations (and its files, when it has any).
  const on = !report.chat ? onFiles : files ? `${onFiles}, and ${report.chat.source}` : report.chat.source;
  note.textContent = `On ${on}, seed ${report.seed}.`;
  const table = document.createElement('table');
  table.className = 'evaluation-table';
  const head = table.createTHead().insertRow();
  for (const h of ['', 'base', 'tuned']) {
    const th = document.createElement('th');
    th.textContent = h;
    head.append(th);
  }
  const body = table.createTBody();
  for (const row of figureRows(report)) {
    const tr = body.insertRow();
    const label = document.createElement('th');
    label.scope = 'row';
    label.textContent = row.label;
    tr.append(label);
    tr.insertCell().textContent = row.base;
    tr.insertCell().textContent = row.tuned ?? '—';
  }
  button('Show samples', 'samples', { type: 'showSamples' }, false);
  button('Evaluate again', 'evaluate', { type: 'evaluate' }, true);
  const parts: HTMLElement[] = [title];
  if (verdict) {
    const badge = document.createElement('p');
    badge.className = `verdict verdict-${verdict.replace(' ', '-')}`;
    badge.dataset.verdict = verdict;
    badge.setAttribute('role', 'status');
    badge.textContent = VERDICT_TEXT[verdict](
      report.chat && !files ? 'held-out conversations' : 'held-out files',
    );
    parts.push(badge);
  }
  section.replaceChildren(...parts, note, table, actions);
}
