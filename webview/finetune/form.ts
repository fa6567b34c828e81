/**
 * The form itself: labelled fields (every one reachable with Tab, labels tied to their controls),
 * presets that fill in the values they own, and the estimate panel with its warnings. Values are
 * read back from the fields on every change; the host derives defaults and measures estimates.
 */
import type {
  FinetuneChoice,
  FinetuneEstimate,
  FinetuneHostMessage,
  FinetunePageMessage,
  FinetunePreset,
  FinetuneValues,
} from '../protocol';

type Field = { key: keyof FinetuneValues; label: string; help: string; lora?: boolean };

/** Fields that change a step's cost (and so the calibration) re-estimate; the others only recount. */
const ADVANCED: Field[] = [
  { key: 'lr', label: 'Learning rate', help: 'Peak; chosen by model size and mode.' },
  { key: 'warmupSteps', label: 'Warm-up steps', help: 'Linear warm-up, then cosine decay.' },
  { key: 'batchTokens', label: 'Tokens per step', help: 'A multiple of the sequence length.' },
  { key: 'seqLen', label: 'Sequence length', help: 'Capped by the model’s context.' },
  { key: 'microBatchTokens', label: 'Tokens per micro-batch', help: 'Less memory, same result.' },
  { key: 'loraR', label: 'LoRA rank', help: 'Adapter width.', lora: true },
  { key: 'loraAlpha', label: 'LoRA alpha', help: 'Adapter scale (often twice the rank).', lora: true },
  { key: 'loraDropout', label: 'LoRA dropout', help: '0 to 0.99.', lora: true },
  {
    key: 'targets',
    label: 'LoRA targets',
    help: 'Comma-separated modules; empty: the family’s.',
    lora: true,
  },
  { key: 'weightDecay', label: 'Weight decay', help: 'AdamW decoupled decay.' },
  { key: 'clipNorm', label: 'Gradient clip norm', help: '0: no clipping.' },
  { key: 'evalEvery', label: 'Evaluate every', help: 'Steps between validation losses (0: at the end).' },
  { key: 'evalTokens', label: 'Evaluation tokens', help: 'Held-out tokens per evaluation.' },
  { key: 'patience', label: 'Patience', help: 'Evaluations without improvement before stopping (0: off).' },
  { key: 'checkpointEvery', label: 'Checkpoint every', help: 'Steps between checkpoints.' },
  { key: 'seed', label: 'Seed', help: 'Data order and initialisation.' },
  { key: 'threads', label: 'Threads', help: '0: ONNX Runtime’s default.' },
];
/** Numbers that take fractions (the others are counts). */
const FRACTIONAL = new Set<keyof FinetuneValues>([
  'lr',
  'weightDecay',
  'clipNorm',
  'loraAlpha',
  'loraDropout',
  'epochs',
]);
const SHAPE_KEYS = new Set<keyof FinetuneValues>([
  'model',
  'dataset',
  'mode',
  'batchTokens',
  'seqLen',
  'microBatchTokens',
  'loraR',
  'targets',
  'baseDtype',
  'threads',
]);

type Control = HTMLElement & { value: string; checked?: boolean };

export class FinetuneForm {
  private values: FinetuneValues | undefined;
  private presets: Partial<Record<FinetunePreset, Partial<FinetuneValues>>> = {};
  private readonly controls = new Map<keyof FinetuneValues, Control>();
  private readonly estimateBox = document.createElement('section');
  private readonly errorLine = document.createElement('p');
  private estimateTimer: ReturnType<typeof setTimeout> | undefined;
  /** Fields the user set since the last model, mode or dataset change: the host's defaults for
   * that change arrive later and must not overwrite them. */
  private readonly setSinceDefaults = new Set<keyof FinetuneValues>();

  constructor(
    private readonly root: HTMLElement,
    private readonly post: (m: FinetunePageMessage) => void,
  ) {}

  onMessage(m: FinetuneHostMessage): void {
    if (m.type === 'init') {
      this.values = m.values;
      this.presets = m.presets;
      this.render(m.models, m.datasets);
    } else if (m.type === 'defaults') {
      for (const [k, v] of Object.entries(m.values)) {
        if (this.setSinceDefaults.has(k as keyof FinetuneValues)) continue;
        Object.assign(this.values!, { [k]: v });
        this.setControl(k as keyof FinetuneValues, v);
      }
      this.post({ type: 'defaultsApplied', values: this.values! });
    } else if (m.type === 'estimating') {
      this.showEstimate(null, 'Measuring a few training steps of this model on this machine…', true);
    } else if (m.type === 'estimate') this.showEstimate(m.estimate, m.error);
    else if (m.type === 'error') this.showError(m.message);
  }

  private render(models: FinetuneChoice[], datasets: FinetuneChoice[]): void {
    const v = this.values!;
    const h1 = document.createElement('h1');
    h1.textContent = 'Fine-tune a model';
    const basics = document.createElement('div');
    basics.className = 'grid';
    basics.append(
      this.select('model', 'Base model', models, 'Models from the Models view.'),
      this.select('dataset', 'Dataset', datasets, 'Built from your files; its held-out part judges the run.'),
      this.text('name', 'Run name', 'How the Runs view and the dashboard call it.'),
      this.select(
        'preset',
        'Preset',
        [
          { value: 'quick', label: 'Quick', description: 'a few minutes: 60 steps, rank 4' },
          { value: 'balanced', label: 'Balanced', description: '200 steps, rank 8' },
          { value: 'thorough', label: 'Thorough', description: '2 epochs, rank 16' },
        ],
        'Fills in steps, epochs, rank and evaluation; change any value after.',
      ),
      this.select(
        'mode',
        'Method',
        [
          { value: 'lora', label: 'LoRA', description: 'small adapters, frozen weights' },
          { value: 'full', label: 'Full fine-tune', description: 'every weight; much more memory' },
        ],
        'LoRA is recommended.',
      ),
      this.text('steps', 'Steps', 'Optimizer steps (0: use epochs).'),
      this.text('epochs', 'Epochs', 'Passes over the data when steps is 0.'),
      this.checkbox('keepBest', 'Keep the best evaluation’s weights (recommended)'),
    );
    const advanced = document.createElement('vscode-collapsible');
    advanced.setAttribute('title', 'All hyperparameters');
    const grid = document.createElement('div');
    grid.className = 'grid';
    for (const f of ADVANCED) grid.append(this.text(f.key, f.label, f.help, f.lora));
    grid.append(
      this.select(
        'baseDtype',
        'Base weights',
        [
          { value: 'fp32', label: 'float32', description: 'exact' },
          { value: 'int8', label: 'int8', description: 'faster products; the same adapter' },
        ],
        'How LoRA holds the frozen model.',
        true,
      ),
    );
    advanced.append(grid);
    this.estimateBox.className = 'estimate';
    this.estimateBox.setAttribute('aria-live', 'polite');
    this.errorLine.className = 'error';
    this.errorLine.setAttribute('role', 'alert');
    const actions = document.createElement('div');
    actions.className = 'actions';
    const start = document.createElement('vscode-button');
    start.textContent = 'Start fine-tuning';
    start.id = 'start';
    start.addEventListener('click', () => this.post({ type: 'start', values: this.read() }));
    // The same run as a job for a GPU trainer (Axolotl, TRL) when it outgrows this machine.
    const elsewhere = document.createElement('vscode-button');
    elsewhere.textContent = 'Train elsewhere…';
    elsewhere.id = 'train-elsewhere';
    elsewhere.setAttribute('secondary', '');
    elsewhere.addEventListener('click', () => this.post({ type: 'handoff', values: this.read() }));
    const cancel = document.createElement('vscode-button');
    cancel.textContent = 'Cancel';
    cancel.setAttribute('secondary', '');
    cancel.addEventListener('click', () => this.post({ type: 'cancel' }));
    actions.append(start, elsewhere, cancel);
    this.root.replaceChildren(h1, basics, advanced, this.estimateBox, this.errorLine, actions);
    this.updateLora(v.mode);
    this.showEstimate(null, 'The estimate appears here before you start.');
  }

  private row(
    key: keyof FinetuneValues,
    label: string,
    control: Control,
    help: string,
    lora = false,
  ): HTMLElement {
    const row = document.createElement('div');
    row.className = 'row';
    if (lora) row.dataset.lora = '';
    const id = `f-${key}`;
    control.id = id;
    const l = document.createElement('vscode-label');
    l.setAttribute('for', id);
    l.textContent = label;
    const small = document.createElement('div');
    small.className = 'help';
    small.textContent = help;
    row.append(l, control, small);
    this.controls.set(key, control);
    control.addEventListener('change', () => this.changed(key));
    return row;
  }

  private text(key: keyof FinetuneValues, label: string, help: string, lora = false): HTMLElement {
    const t = document.createElement('vscode-textfield') as unknown as Control;
    t.value = String(this.values![key]);
    // Counts get a number field, fractional values a text field: a number field's default step of
    // 1 would mark 0.0003 invalid (the host checks every value and says which is wrong).
    if (typeof this.values![key] === 'number' && !FRACTIONAL.has(key)) t.setAttribute('type', 'number');
    t.addEventListener('input', () => this.changed(key, true));
    return this.row(key, label, t, help, lora);
  }

  private select(
    key: keyof FinetuneValues,
    label: string,
    choices: FinetuneChoice[],
    help: string,
    lora = false,
  ): HTMLElement {
    const s = document.createElement('vscode-single-select') as unknown as Control;
    for (const c of choices) {
      const o = document.createElement('vscode-option');
      o.setAttribute('value', c.value);
      if (c.description) o.setAttribute('description', c.description);
      o.textContent = c.label;
      if (c.value === this.values![key]) o.setAttribute('selected', '');
      s.append(o);
    }
    return this.row(key, label, s, help, lora);
  }

  private checkbox(key: keyof FinetuneValues, label: string): HTMLElement {
    const c = document.createElement('vscode-checkbox') as unknown as Control;
    c.setAttribute('label', label);
    if (this.values![key]) c.setAttribute('checked', '');
    return this.row(key, '', c, '');
  }

  private setControl(key: keyof FinetuneValues, value: unknown): void {
    const c = this.controls.get(key);
    if (!c) return;
    if (typeof value === 'boolean') c.checked = value;
    else c.value = String(value);
  }

  /** The values as the fields hold them now (numbers parsed; an empty number field reads as NaN). */
  private read(): FinetuneValues {
    const v = { ...this.values! } as Record<string, unknown>;
    for (const [key, c] of this.controls) {
      const before = this.values![key];
      if (typeof before === 'boolean') v[key] = !!c.checked;
      else if (typeof before === 'number') v[key] = c.value.trim() === '' ? NaN : Number(c.value);
      else v[key] = c.value;
    }
    return v as unknown as FinetuneValues;
  }

  private changed(key: keyof FinetuneValues, typing = false): void {
    this.values = this.read();
    this.errorLine.textContent = '';
    if (key === 'preset') {
      const p = this.presets[this.values.preset] ?? {};
      Object.assign(this.values, p);
      for (const [k, val] of Object.entries(p)) {
        this.setControl(k as keyof FinetuneValues, val);
        this.setSinceDefaults.add(k as keyof FinetuneValues);
      }
    }
    if (key === 'mode') this.updateLora(this.values.mode);
    if (key === 'model' || key === 'mode' || key === 'dataset') {
      this.setSinceDefaults.clear();
      this.post({ type: 'modelChanged', values: this.values });
      return;
    }
    this.setSinceDefaults.add(key);
    // Typing waits for a pause; a shape change needs a new calibration, the rest only recounts.
    if (this.estimateTimer) clearTimeout(this.estimateTimer);
    const values = this.values;
    this.estimateTimer = setTimeout(
      () => this.post({ type: 'estimate', values }),
      typing && SHAPE_KEYS.has(key) ? 1200 : 400,
    );
  }

  private updateLora(mode: string): void {
    for (const row of this.root.querySelectorAll<HTMLElement>('[data-lora]')) row.hidden = mode !== 'lora';
  }

  private showEstimate(e: FinetuneEstimate | null, note?: string, busy = false): void {
    const h2 = document.createElement('h2');
    h2.textContent = 'Estimate';
    const parts: HTMLElement[] = [h2];
    if (e) {
      const dl = document.createElement('dl');
      const item = (k: string, val: string) => {
        const dt = document.createElement('dt');
        dt.textContent = k;
        const dd = document.createElement('dd');
        dd.textContent = val;
        dl.append(dt, dd);
      };
      item('Training tokens', e.trainTokens.toLocaleString());
      item('Steps', e.steps.toLocaleString());
      item('Epochs', Number.isFinite(e.epochs) ? e.epochs.toFixed(2) : '—');
      item(
        'Time',
        `${duration(e.seconds)}, with ${duration(e.setupSeconds)} to start, ${count(e.evaluations, 'evaluation')} and ${count(e.checkpoints, 'checkpoint write')}`,
      );
      item('Peak memory', `${(e.peakBytes / 2 ** 30).toFixed(2)} GiB`);
      item(
        'Per step',
        `${e.stepSeconds.toFixed(2)} s (measured on this machine${e.cached ? ', cached' : ''})`,
      );
      parts.push(dl);
      for (const w of e.warnings) {
        const p = document.createElement('p');
        p.className = 'warning';
        p.setAttribute('role', 'alert');
        p.textContent = `⚠ ${w}`;
        parts.push(p);
      }
    }
    if (note) {
      const p = document.createElement('p');
      p.className = e ? 'note' : busy ? 'note busy' : 'note';
      p.textContent = note;
      parts.push(p);
    }
    this.estimateBox.dataset.state = e ? 'ready' : busy ? 'measuring' : 'none';
    this.estimateBox.replaceChildren(...parts);
  }

  private showError(message: string): void {
    this.errorLine.textContent = message;
  }
}

function duration(s: number): string {
  if (s < 90) return `about ${Math.round(s)} s`;
  if (s < 5400) return `about ${Math.round(s / 60)} min`;
  return `about ${(s / 3600).toFixed(1)} h`;
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}
