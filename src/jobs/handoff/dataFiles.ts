/** The dataset files of a hand-off folder (relative to it), as every engine writer names them. */
export interface JobDataFiles {
  train: { text: string | null; segments: string | null };
  /** Null when the run has no validation split. */
  validation: { text: string | null; segments: string | null } | null;
}

export const DATA_DIR = 'data';

export function dataFileName(split: 'train' | 'validation', kind: 'text' | 'segments'): string {
  return `${DATA_DIR}/${split}${kind === 'segments' ? '.segments' : ''}.jsonl`;
}
