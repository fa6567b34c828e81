/**
 * A training sample before tokenization: pieces of text (or ready token ids, e.g. FIM markers),
 * each with whether the model is trained to produce it.
 */
export type Segment = { text: string; loss: boolean } | { ids: number[]; loss: boolean };

/**
 * `templated`: rendered through the model's chat template, which places any BOS itself (as
 * transformers' apply_chat_template does); other samples get the tokenizer's prefix ids.
 */
export type Sample = Segment[] & { templated?: boolean };

/** The sample with each segment replaced, keeping what the sample says of itself. */
export function mapSegments(sample: Sample, f: (seg: Segment) => Segment): Sample {
  return Object.assign(sample.map(f), sample.templated ? { templated: true } : {});
}
