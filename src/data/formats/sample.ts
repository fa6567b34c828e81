/**
 * A training sample before tokenization: pieces of text (or ready token ids, e.g. FIM markers),
 * each with whether the model is trained to produce it.
 */
export type Segment = { text: string; loss: boolean } | { ids: number[]; loss: boolean };

export type Sample = Segment[];
