/** `localtune export`: a model (with a LoRA adapter merged) as a folder transformers.js loads. */
import { UserError } from './engine/errors';
import { evalCardInfo } from './eval/report';
import { exportModel } from './engine/generate/export';
import { resolveModelForCli } from './engine/hub/hubProgress';
import { parseFlags, type CliIo } from './cliArgs';

const HELP = `localtune export --model DIR|ID [--adapter DIR] --out DIR [--dtype fp32|int8] [--force] [--json]
  Writes config.json, generation_config.json, the tokenizer files, onnx/model.onnx (fp32) or
  onnx/model_quantized.onnx (int8 weights) with a KV cache, and a model card (README.md).
  --data-summary STR   a line about the training data for the model card (default: from the
                       adapter's eval.json, written by localtune eval, with its figures)
  --force              replace an existing --out folder`;

export async function runExportCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, {
    model: { type: 'string' },
    adapter: { type: 'string' },
    out: { type: 'string' },
    dtype: { type: 'string' },
    'data-summary': { type: 'string' },
    force: { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean' },
  });
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  if (!values.model) throw new UserError('export needs --model DIR');
  if (!values.out) throw new UserError('export needs --out DIR');
  const dtype = values.dtype ?? 'fp32';
  if (dtype !== 'fp32' && dtype !== 'int8')
    throw new UserError(`--dtype must be fp32 or int8 (got "${dtype}")`);
  const modelDir = await resolveModelForCli(values.model, io.err);
  // `localtune eval --adapter` leaves eval.json in the adapter folder: its figures go in the card.
  const fromEval = evalCardInfo(values.adapter);
  const result = await exportModel({
    modelDir,
    adapterDir: values.adapter,
    outDir: values.out,
    dtype,
    overwrite: values.force,
    card: {
      baseModel: modelDir === values.model ? undefined : values.model,
      trainingData: values['data-summary'] ?? fromEval.trainingData,
      evaluation: fromEval.evaluation,
    },
  });
  if (values.json) io.out(JSON.stringify(result));
  else {
    io.out(`exported to ${result.outDir} (${result.files.join(', ')})`);
    if (result.maxLogitDiff !== undefined)
      io.out(
        `int8: max |logit difference| against fp32 on a ${result.probeTokens}-token probe: ${result.maxLogitDiff.toPrecision(3)}`,
      );
  }
  return 0;
}
