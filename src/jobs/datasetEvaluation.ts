/**
 * The evaluation of a dataset as `localtune eval`, the editor's Evaluate and the end-of-run
 * evaluation run it: the held-out figures (eval/evaluate.ts), and for a chat dataset — held-out
 * conversations, and a model with a chat template — the chat evaluation on those conversations
 * beside them (loss base vs tuned, replies side by side) in `report.chat`.
 */
import { join, resolve } from 'node:path';
import { readManifest } from '../data/datasetFiles';
import { ChatTemplate } from '../data/formats/chat';
import { heldOutConversations } from '../data/formats/conversations';
import { MANIFEST_FILE } from '../data/manifest';
import { evaluate, type EvalOptions } from '../eval/evaluate';
import type { EvalReport } from '../eval/report';
import { evaluateChat, isAnswerable } from './chatEval';

export interface DatasetEvalOptions extends EvalOptions {
  /** New tokens of each side-by-side reply at most (default 64). */
  replyTokens?: number;
}

export async function evaluateDataset(o: DatasetEvalOptions): Promise<EvalReport> {
  const started = performance.now();
  const report = await evaluate(o);
  const manifest = readManifest(join(resolve(o.datasetDir), MANIFEST_FILE));
  const records = manifest.heldOut?.records ?? [];
  if (records.length === 0 || !ChatTemplate.fromModelDir(o.modelDir)) return report;
  const conversations = heldOutConversations(records, manifest.csvColumns).filter(isAnswerable);
  if (conversations.length === 0) return report;
  o.onProgress?.(`held-out conversations: loss and replies, base vs tuned`);
  const chat = await evaluateChat({
    modelDir: o.modelDir,
    adapterDir: o.adapterDir,
    conversations,
    source: `${conversations.length} held-out conversations of ${manifest.name}`,
    samples: o.samples,
    evalTokens: o.evalTokens,
    maxTokens: o.replyTokens,
    seqLen: o.seqLen,
    threads: o.threads,
  });
  return { ...report, chat, seconds: (performance.now() - started) / 1000 };
}
