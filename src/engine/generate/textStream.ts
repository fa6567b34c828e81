/**
 * Token ids to text as they arrive: each call returns only the new text. Byte-level tokenizers
 * split a character across tokens, so text that ends in an incomplete character (decoded as
 * U+FFFD) is held back until the next token completes it.
 */
export class TextStream {
  private readonly ids: number[] = [];
  private shown = 0;

  constructor(private readonly decode: (ids: number[]) => string) {}

  /** The text token `id` adds (maybe empty). */
  push(id: number): string {
    this.ids.push(id);
    const text = this.decode(this.ids);
    if (text.endsWith('\uFFFD')) return '';
    return this.take(text);
  }

  /** Whatever is still held back (call once at the end). */
  flush(): string {
    return this.take(this.decode(this.ids));
  }

  private take(text: string): string {
    const fresh = text.slice(this.shown);
    this.shown = text.length;
    return fresh;
  }
}
