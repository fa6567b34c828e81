/**
 * Scoring a token sequence with a forward-only graph: logprobs[i] = log P(ids[i+1] | ids[0..i]).
 * With an adapter the LoRA matrices are baked in as constants.
 */
import type { InferenceSession } from 'onnxruntime-node';
import { UserError } from '../errors';
import type { Adapter } from '../formats/peft';
import type { LoadedModel } from '../models';
import { createSession, toOrt } from '../onnx/session';
import { buildLmGraph } from './lmGraph';

export async function scoreIds(
  model: LoadedModel,
  ids: readonly number[],
  o: { adapter?: Adapter; threads?: number } = {},
): Promise<number[]> {
  if (ids.length < 2) throw new UserError('scoring needs at least two tokens');
  const context = model.family.contextLength(model.config);
  if (ids.length > context)
    throw new UserError(`the text is ${ids.length} tokens, longer than the model's context (${context})`);
  const vocab = model.family.vocabSize(model.config);
  const bad = ids.find((i) => !Number.isInteger(i) || i < 0 || i >= vocab);
  if (bad !== undefined)
    throw new UserError(`token id ${bad} is outside the model's vocabulary (0..${vocab - 1})`);
  const session = await scoringSession(model, o);
  const n = ids.length - 1;
  const out = await session.run({
    input_ids: toOrt('int64', BigInt64Array.from(ids.slice(0, n), BigInt), [1, n]),
    labels: toOrt('int64', BigInt64Array.from(ids.slice(1), BigInt), [1, n]),
    loss_weights: toOrt('float32', new Float32Array(n).fill(1), [1, n]),
    loss_scale: toOrt('float32', Float32Array.of(1), []),
  });
  return Array.from(out.token_logprobs.data as Float32Array);
}

/** A session of the forward-only LM graph (loss and token_logprobs), the adapter baked in as constants. */
export async function scoringSession(
  model: LoadedModel,
  o: { adapter?: Adapter; threads?: number } = {},
): Promise<InferenceSession> {
  const loraValues = o.adapter ? new Map([...o.adapter.values].map(([k, v]) => [k, v.data])) : undefined;
  const { graph } = buildLmGraph(model, {
    mode: 'frozen',
    lora: o.adapter?.settings,
    loraValues,
    withGradients: false,
  });
  return createSession(graph.toBytes(), { threads: o.threads });
}
