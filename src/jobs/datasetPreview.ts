/**
 * A dataset preview: the manifest of a built dataset and its first training documents decoded
 * (what the Datasets view's "Preview Samples" shows). The worker makes it (`datasetSamples.ts`,
 * job kind `preview`); this module holds its types and the text the editor shows, the same
 * lines `localtune dataset show` prints. Types and string formatting only: the extension host
 * imports it without loading a tokenizer.
 */
import type { DatasetManifest } from '../data/manifest';

/** One training document of the dataset, decoded. */
export interface DatasetSample {
  text: string;
  /** Its tokens, the end-of-text token included. */
  tokens: number;
  /** How many of them carry loss. */
  lossTokens: number;
  /**
   * The text in runs of tokens with and without loss, when it has both (a chat rendered through its
   * template: the assistant turns are what the model learns to say).
   */
  spans?: { text: string; loss: boolean }[];
}

/** Around the text a model is trained to produce, in a preview. */
export const TRAINED_MARKS = ['⟦', '⟧'] as const;

export interface DatasetPreview {
  datasetDir: string;
  manifest: DatasetManifest;
  /** The model folder whose tokenizer decoded the samples. */
  modelDir: string;
  /** False when that folder does not exist (then there are no samples). */
  modelFound: boolean;
  /** How many samples were asked for. */
  requested: number;
  samples: DatasetSample[];
}

/** The manifest in a few lines: sources, the split, what was skipped and scrubbed, FIM. */
export function datasetSummaryLines(m: DatasetManifest): string[] {
  const skipped = Object.entries(m.skipped)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const findings = Object.entries(m.scrub.findings)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  return [
    `dataset ${m.name}: ${m.sources.map((s) => s.path).join(', ')}`,
    `  train:      ${m.documents.train} documents, ${m.files.train} files, ${m.tokens.train} tokens (${m.lossTokens.train} with loss)`,
    `  validation: ${m.documents.validation} documents, ${m.files.validation} files, ${m.tokens.validation} tokens (${m.lossTokens.validation} with loss) — split by ${m.split.method}`,
    `  skipped:    ${skipped || 'nothing'}`,
    `  scrubbed:   ${findings || 'nothing'}${m.scrub.allowed ? ` (${m.scrub.allowed} marked false positives)` : ''}; see ${m.scrub.report}`,
    `  FIM:        ${m.fim.style ? `${m.fim.documents} documents (${m.fim.style} tokens, rate ${m.fim.rate})` : 'none (the model has no FIM tokens)'}`,
  ];
}

/** The preview as text: the summary, then each sample (cut at 400 characters). */
export function previewLines(p: DatasetPreview): string[] {
  const lines = datasetSummaryLines(p.manifest);
  if (p.requested > 0 && p.samples.length === 0)
    lines.push(`(no samples: model folder ${p.modelDir} not found)`);
  if (p.samples.some((s) => s.spans))
    lines.push(`(${TRAINED_MARKS.join('…')} marks what the model is trained to say: the assistant's turns)`);
  for (const [i, s] of p.samples.entries()) {
    lines.push(`--- sample ${i + 1}: ${s.tokens} tokens, ${s.lossTokens} with loss`);
    const text = s.spans ? markedText(s.spans) : s.text;
    lines.push(text.length > 400 ? `${text.slice(0, 400)}…` : text);
  }
  return lines;
}

/** The sample's text with the trained spans between TRAINED_MARKS. */
export function markedText(spans: { text: string; loss: boolean }[]): string {
  return spans.map((s) => (s.loss ? `${TRAINED_MARKS[0]}${s.text}${TRAINED_MARKS[1]}` : s.text)).join('');
}
