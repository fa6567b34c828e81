// Packages the starter model from its pretraining run into models/starter/: the newest (or a given)
// checkpoint's weights as float16 safetensors, the template's config and tokenizer, and a model
// card with the corpus (every package, version, licence), the training figures and a plot of the
// held-out loss by step, and model.onnx for transformers.js (its weights: model.safetensors'). Usage: node --import tsx scripts/starter/package.ts [--dir DIR] [--checkpoint DIR]
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  SafetensorsReader,
  writeSafetensors,
  type WritableTensor,
} from '../../src/engine/formats/safetensors';
import { writeOnnxBesideSafetensors } from '../../src/engine/generate/onnxBesideSafetensors';
import { starterDir } from './paths.mjs';
import { modelCard, type CorpusPackage, type TrainingFigures } from './card';
import { lossPlotSvg } from './plot';
import { appendStage } from './history';
import { historyFile, readHistory, type Stage } from './stage';

const root = new URL('../..', import.meta.url).pathname;
const S = starterDir(process.argv);
const run = join(S, 'run');
const out = join(root, 'models', 'starter');
const argAt = process.argv.indexOf('--checkpoint');
const checkpoint =
  argAt !== -1
    ? process.argv[argAt + 1]
    : join(
        run,
        'checkpoints',
        readdirSync(join(run, 'checkpoints'))
          .filter((d) => d.startsWith('step-'))
          .sort()
          .at(-1)!,
      );

mkdirSync(out, { recursive: true });
const stage: Stage = JSON.parse(readFileSync(join(S, 'stage.json'), 'utf8'));
const priorHistory = readHistory(root);
// float16 halves the folder; every weight of a model this small sits well inside its range.
const reader = SafetensorsReader.open(join(checkpoint, 'model.safetensors'));
const tensors: Record<string, WritableTensor> = {};
for (const name of reader.names())
  tensors[name] = { dtype: 'F16', shape: reader.info(name).shape, data: reader.readFloat32(name) };
writeSafetensors(join(out, 'model.safetensors'), tensors, { format: 'pt' });
reader.close();

// A stage that started from the shipped folder has no init/ of its own: its config and tokenizer
// are the shipped ones, already in place.
if (existsSync(join(run, 'init'))) {
  const config = JSON.parse(readFileSync(join(run, 'init', 'config.json'), 'utf8'));
  writeFileSync(
    join(out, 'config.json'),
    JSON.stringify({ ...config, torch_dtype: 'float16' }, null, 2) + '\n',
  );
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json'])
    copyFileSync(join(run, 'init', f), join(out, f));
}
const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));

const metrics = readFileSync(join(run, 'metrics.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l));
const state = JSON.parse(readFileSync(join(checkpoint, 'trainer_state.json'), 'utf8'));
const steps = metrics.filter((m) => m.type === 'step' && m.step <= state.step);
const evals = metrics.filter((m) => m.type === 'eval' && m.step <= state.step);
// This stage's figures join the history of the stages before it, in the plan's step numbers.
const history = appendStage(priorHistory, stage, {
  toStep: stage.fromStep + state.step,
  tokens: steps.reduce((a, s) => a + s.tokens, 0),
  seconds: steps.reduce((a, s) => a + s.tokens / s.tokensPerSec, 0),
  evals: evals.map((e) => ({ step: stage.fromStep + e.step, loss: e.evalLoss })),
  trainLoss: steps.map((s) => ({ step: stage.fromStep + s.step, loss: s.loss })),
});
writeFileSync(historyFile(root), JSON.stringify(history, null, 2) + '\n');
const manifest = JSON.parse(readFileSync(join(S, 'dataset', 'manifest.json'), 'utf8'));
const corpus: CorpusPackage[] = JSON.parse(readFileSync(join(S, 'corpus.json'), 'utf8'));
const heldOut = [
  ...new Set<string>(manifest.heldOut.files.map((f: { id: string }) => f.id.split('/')[0])),
].sort();
const figures: TrainingFigures = {
  step: history.step,
  totalSteps: history.plan.steps,
  tokens: history.tokens,
  seconds: history.seconds,
  stages: history.stages.length,
  trainTokens: manifest.tokens.train,
  validationTokens: manifest.tokens.validation,
  evals: history.evals,
  lastTrainLoss: history.trainLoss.at(-1)?.loss,
};
writeFileSync(join(out, 'heldout-loss.svg'), lossPlotSvg(figures.evals));
writeFileSync(join(out, 'README.md'), modelCard({ config, corpus, heldOut, figures, manifest }));
// transformers.js runs ONNX only: a graph that references the float16 weights just written (no copy).
writeOnnxBesideSafetensors(out);
const bytes = readdirSync(out).reduce((a, f) => a + statSync(join(out, f)).size, 0);
console.log(`models/starter: step ${history.step} of ${history.plan.steps}, ${(bytes / 1e6).toFixed(1)} MB`);
