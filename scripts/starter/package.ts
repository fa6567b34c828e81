// Packages the starter model from its pretraining run into models/starter/: the newest (or a given)
// checkpoint's weights as float16 safetensors, the template's config and tokenizer, and a model
// card with the corpus (every package, version, licence), the training figures and a plot of the
// held-out loss by step. Usage: node --import tsx scripts/starter/package.ts [--dir DIR] [--checkpoint DIR]
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
import { starterDir } from './paths.mjs';
import { modelCard, type CorpusPackage, type TrainingFigures } from './card';
import { lossPlotSvg } from './plot';

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
// float16 halves the folder; every weight of a model this small sits well inside its range.
const reader = SafetensorsReader.open(join(checkpoint, 'model.safetensors'));
const tensors: Record<string, WritableTensor> = {};
for (const name of reader.names())
  tensors[name] = { dtype: 'F16', shape: reader.info(name).shape, data: reader.readFloat32(name) };
writeSafetensors(join(out, 'model.safetensors'), tensors, { format: 'pt' });
reader.close();

const config = JSON.parse(readFileSync(join(run, 'init', 'config.json'), 'utf8'));
writeFileSync(
  join(out, 'config.json'),
  JSON.stringify({ ...config, torch_dtype: 'float16' }, null, 2) + '\n',
);
for (const f of ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json'])
  copyFileSync(join(run, 'init', f), join(out, f));

const metrics = readFileSync(join(run, 'metrics.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l));
const state = JSON.parse(readFileSync(join(checkpoint, 'trainer_state.json'), 'utf8'));
const steps = metrics.filter((m) => m.type === 'step' && m.step <= state.step);
const evals = metrics.filter((m) => m.type === 'eval' && m.step <= state.step);
const manifest = JSON.parse(readFileSync(join(S, 'dataset', 'manifest.json'), 'utf8'));
const corpus: CorpusPackage[] = JSON.parse(readFileSync(join(S, 'corpus.json'), 'utf8'));
const heldOut = [
  ...new Set<string>(manifest.heldOut.files.map((f: { id: string }) => f.id.split('/')[0])),
].sort();
const figures: TrainingFigures = {
  step: state.step,
  totalSteps: steps.at(-1)?.totalSteps ?? state.step,
  tokens: steps.reduce((a, s) => a + s.tokens, 0),
  seconds: steps.reduce((a, s) => a + s.tokens / s.tokensPerSec, 0),
  trainTokens: manifest.tokens.train,
  validationTokens: manifest.tokens.validation,
  evals: evals.map((e) => ({ step: e.step, loss: e.evalLoss })),
  lastTrainLoss: steps.at(-1)?.loss,
};
writeFileSync(join(out, 'heldout-loss.svg'), lossPlotSvg(figures.evals));
writeFileSync(join(out, 'README.md'), modelCard({ config, corpus, heldOut, figures, manifest }));
const bytes = readdirSync(out).reduce((a, f) => a + statSync(join(out, f)).size, 0);
console.log(`models/starter: step ${state.step}, ${(bytes / 1e6).toFixed(1)} MB${existsSync(out) ? '' : ''}`);
