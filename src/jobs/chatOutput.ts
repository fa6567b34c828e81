/**
 * Watching what a model says: generated text goes through the same secret scrubber as the training
 * data (data/scrub.ts), so a model that memorised a key shows a placeholder instead, and the
 * masking is counted. Streamed text is re-scrubbed as a whole after each piece (a secret arrives
 * over several tokens); `stableLength` is how much of the masked text can no longer change (up to
 * the last line break, since the scrubber's findings are at most a line long apart from private
 * key blocks, which are masked whole once they end).
 */
import { scrub } from '../data/scrub';

export class MaskedOutput {
  private raw = '';
  private shown = '';
  private count = 0;
  private stable = 0;

  /** Adds generated text; returns the whole output so far, masked. */
  push(text: string): string {
    if (!text) return this.shown;
    this.raw += text;
    const r = scrub(this.raw);
    this.shown = r.text;
    this.count = r.findings.reduce((n, f) => n + f.count, 0);
    // A line that is complete and unchanged from the last masking is final.
    const cut = this.shown.lastIndexOf('\n') + 1;
    if (!insidePrivateKey(this.shown.slice(0, cut))) this.stable = Math.max(this.stable, cut);
    return this.shown;
  }

  /** The whole output, masked; everything is stable from now on. */
  finish(): string {
    this.stable = this.shown.length;
    return this.shown;
  }

  get text(): string {
    return this.shown;
  }

  /** Characters at the start of `text` that will not change any more. */
  get stableLength(): number {
    return this.stable;
  }

  /** Secrets masked so far. */
  get masked(): number {
    return this.count;
  }
}

function insidePrivateKey(text: string): boolean {
  const begin = text.lastIndexOf('-----BEGIN ');
  return begin !== -1 && text.indexOf('-----END ', begin) === -1;
}

/** Masks a whole text at once: the masked text and how many secrets it held. */
export function maskOutput(text: string): { text: string; masked: number } {
  const r = scrub(text);
  return { text: r.text, masked: r.findings.reduce((n, f) => n + f.count, 0) };
}
