/** `localtune generate`: KV-cached decoding from a model folder (with an adapter) or an exported folder, streamed. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../engine/errors';
import { Decoder } from '../engine/generate/decoder';
import { TextStream } from '../engine/generate/textStream';
import { loadTokenizer } from '../engine/tokenizer/tokenizer';
import { loadModel } from '../engine/models';
import { loadAdapterFor } from '../engine/train/adapterFit';
import type { CliIo, CommandArgs } from './command';
import {
  checkModel,
  command,
  dtypeFlag,
  numberFlag,
  optionalNumberFlag,
  required,
  resolveModel,
  stringFlags,
} from './command';

const HELP = `localtune generate --model DIR|ID [--adapter DIR] --prompt STR [options]
  Continues the prompt, streaming the new text to stdout. DIR is a model folder (safetensors) or a
  folder written by localtune export.
  --max-tokens N      new tokens at most (default 64)
  --temperature T     0 = greedy (default); above 0 samples
  --top-p P           nucleus sampling mass (default 1)
  --seed N            makes sampling reproducible
  --dtype fp32|int8   int8: weight-only int8 matrices (default fp32)
  --json              print one JSON line at the end instead of streaming`;

/** CliIo plus raw stdout writes for streaming (the CLI's default: process.stdout). */
export type GenerateIo = CliIo & { write?: (text: string) => void };

const GENERATE_FLAGS = stringFlags('model adapter prompt max-tokens temperature top-p seed dtype');

export const runGenerateCommand = command({ help: HELP, flags: GENERATE_FLAGS }, generateCommand);

async function generateCommand({ values }: CommandArgs<typeof GENERATE_FLAGS>, io: GenerateIo) {
  const modelArg = required(values.model, 'generate needs --model DIR');
  if (values.prompt === undefined) throw new UserError('generate needs --prompt STR');
  const dtype = dtypeFlag(values.dtype);
  const maxTokens = numberFlag(values['max-tokens'], 'max-tokens', 64, true, { min: 1 });
  const temperature = numberFlag(values.temperature, 'temperature', 0, false, { max: 100 });
  const topP = numberFlag(values['top-p'], 'top-p', 1, false, { above: 0, max: 1 });
  const seed = optionalNumberFlag(values.seed, 'seed');

  const { modelDir } = await resolveModel(modelArg, io);
  // An exported folder has onnx/ and no safetensors weights; a model folder is built in memory.
  const hasWeights = ['model.safetensors', 'model.safetensors.index.json'].some((f) =>
    existsSync(join(modelDir, f)),
  );
  const exported = !hasWeights && existsSync(join(modelDir, 'onnx'));
  let decoder: Decoder;
  if (exported) {
    if (values.adapter)
      throw new UserError(
        `${modelDir} is an exported model (its adapter is merged); --adapter needs a model folder`,
      );
    decoder = await Decoder.fromExported(modelDir, { dtype });
  } else {
    checkModel(modelDir);
    const model = loadModel(modelDir);
    try {
      const adapter = values.adapter ? loadAdapterFor(model, values.adapter) : undefined;
      decoder = await Decoder.fromModel(model, { adapter, dtype });
    } finally {
      model.weights.close();
    }
  }
  const tokenizer = await loadTokenizer(modelDir);
  const prompt = tokenizer.encode(values.prompt);
  if (prompt.length === 0) throw new UserError('--prompt is empty: give some text to continue');

  const write = io.write ?? ((text: string) => void process.stdout.write(text));
  const stream = new TextStream((ids) => tokenizer.decode(ids));
  const result = await decoder.generate(prompt, {
    maxTokens,
    temperature,
    topP,
    seed,
    onToken: values.json ? undefined : (id) => write(stream.push(id)),
  });
  if (values.json) {
    io.out(
      JSON.stringify({
        prompt: values.prompt,
        ids: result.tokens,
        text: tokenizer.decode(result.tokens),
        stop: result.stop,
        promptTokens: result.promptTokens,
        firstTokenMs: Math.round(result.firstTokenMs),
        tokensPerSecond: Number(result.decodeTokensPerSecond.toFixed(1)),
      }),
    );
  } else {
    write(stream.flush() + '\n');
    io.err(
      `${result.tokens.length} tokens (${result.stop}), first after ${Math.round(result.firstTokenMs)} ms, ${result.decodeTokensPerSecond.toFixed(1)} tokens/s`,
    );
  }
  return 0;
}
