/** `localtune export`: a model (with a LoRA adapter merged) as a folder transformers.js loads. */
import { evalCardInfo } from '../eval/report';
import { exportModel } from '../engine/generate/export';
import type { CliIo, CommandArgs } from './command';
import {
  checkModel,
  command,
  withOutputFolder,
  dtypeFlag,
  required,
  resolveModel,
  stringFlags,
} from './command';

const HELP = `localtune export --model DIR|ID [--adapter DIR] --out DIR [--dtype fp32|int8] [--force] [--json]
  Writes config.json, generation_config.json, the tokenizer files, onnx/model.onnx (fp32) or
  onnx/model_quantized.onnx (int8 weights) with a KV cache, and a model card (README.md).
  --data-summary STR   a line about the training data for the model card (default: from the
                       adapter's eval.json, written by localtune eval, with its figures)
  --force              replace an existing --out folder`;

const EXPORT_FLAGS = {
  ...stringFlags('model adapter out dtype data-summary'),
  force: { type: 'boolean' },
} as const;

export const runExportCommand = command(
  {
    help: HELP,
    flags: EXPORT_FLAGS,
    optionFlags: {
      overwrite: '--force',
      trainingData: '--data-summary',
      'card.trainingData': '--data-summary',
    },
  },
  exportCommand,
);

async function exportCommand({ values }: CommandArgs<typeof EXPORT_FLAGS>, io: CliIo) {
  const modelArg = required(values.model, 'export needs --model DIR');
  const outDir = required(values.out, 'export needs --out DIR');
  const dtype = dtypeFlag(values.dtype);
  const { modelDir, hubId } = await resolveModel(modelArg, io);
  checkModel(modelDir);
  // `localtune eval --adapter` leaves eval.json in the adapter folder, or in a fully tuned model's
  // folder (exported with --model): its figures go in the card.
  const fromEval = evalCardInfo(values.adapter ?? modelDir);
  const result = await withOutputFolder(outDir, 'localtune export', () =>
    exportModel({
      modelDir,
      adapterDir: values.adapter,
      outDir,
      dtype,
      overwrite: values.force,
      card: {
        baseModel: hubId,
        trainingData: values['data-summary'] ?? fromEval.trainingData,
        evaluation: fromEval.evaluation,
      },
    }),
  );
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
