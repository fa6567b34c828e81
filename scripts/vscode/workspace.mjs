// The demo workspace and the offline model, shared by `npm start` and the e2e tests.
// No hub here: the model is a small GPT-2-shaped one built locally (random weights, the real GPT-2
// tokenizer, StarCoder-style FIM tokens as SmolLM2 has), cached by its recipe and the fixture code.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sourceHash } from '../sourceHash.mjs';

const root = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');

export const TINY_MODEL_SHAPE = { nLayer: 2, nHead: 4, nEmbd: 128, nPositions: 256 };
export const FIM_TOKENS = ['<fim_prefix>', '<fim_middle>', '<fim_suffix>'];

// Random weights need embeddings larger than GPT-2's init for LoRA to move the loss visibly
// (the tied head caps the logits); 0.1 with the demo's learning rate falls ~11 -> ~8.5 in 30 steps.
const EMBEDDING_STD = 0.1;
const MARKER = 'localtune-fixture.json';

/** Builds the small offline model into `dir` unless it is there already (same recipe); returns `dir`. */
export function ensureTinyModel(dir) {
  const marker = join(dir, MARKER);
  // The recipe and a hash of the code that writes the model (fixtures/): either changed, it is rebuilt.
  const recipe = JSON.stringify({
    shape: TINY_MODEL_SHAPE,
    embeddingStd: EMBEDDING_STD,
    fim: FIM_TOKENS,
    code: sourceHash(root, ['fixtures']),
  });
  if (
    existsSync(join(dir, 'model.safetensors')) &&
    existsSync(marker) &&
    readFileSync(marker, 'utf8') === recipe
  )
    return dir;
  console.log(
    `[workspace] building a small GPT-2-shaped model in ${dir} (offline: random weights, GPT-2 tokenizer)`,
  );
  const call = `require('./fixtures/tinyModel').writeGpt2Model(${JSON.stringify(dir)}, ${JSON.stringify(
    TINY_MODEL_SHAPE,
  )}, 0, { embeddingStd: ${EMBEDDING_STD}, extraSpecialTokens: ${JSON.stringify(FIM_TOKENS)} })`;
  execFileSync(process.execPath, ['--import', 'tsx', '-e', call], { cwd: root, stdio: 'inherit' });
  writeFileSync(marker, recipe);
  return dir;
}

/** The demo project's files, kept as real files in scripts/vscode/demo-shop/. */
const DEMO_SOURCE = join(root, 'scripts', 'vscode', 'demo-shop');
/** The newest commit: the recency split holds it out, so the evaluation scores unseen code. */
export const DEMO_HELD_OUT = 'src/orders.ts';

/**
 * Writes the demo workspace into `dir` (existing files are left alone, so a user's edits survive)
 * as a git repository whose last commit adds DEMO_HELD_OUT, and points `localtune.defaultModel` at
 * `modelDir` in its workspace settings.
 */
export function writeDemoWorkspace(dir, { modelDir, randomWeights = true, settings = {} } = {}) {
  const fresh = !existsSync(join(dir, '.git'));
  cpSync(DEMO_SOURCE, dir, { recursive: true, force: false, errorOnExist: false });
  // Its own git repository: inside this repo's ignored .cache/ it would otherwise look ignored.
  if (fresh) {
    const git = (...args) =>
      execFileSync('git', ['-c', 'user.name=demo', '-c', 'user.email=demo@localhost', ...args], {
        cwd: dir,
        stdio: 'ignore',
      });
    git('init', '-q');
    git('add', '--all', '--', '.', `:!${DEMO_HELD_OUT}`);
    git('commit', '-q', '-m', 'demo-shop: money, cart, discounts, tax, shipping, inventory');
    git('add', DEMO_HELD_OUT);
    git('commit', '-q', '-m', 'orders: place and cancel an order');
  }
  // A model with random weights needs more than a pretrained model's default learning rate to move.
  const offline = modelDir
    ? {
        'localtune.defaultModel': modelDir,
        ...(randomWeights ? { 'localtune.training.learningRate': 0.002 } : {}),
      }
    : {};
  const workspaceSettings = { 'localtune.datasets.split': 'recency', ...offline, ...settings };
  mkdirSync(join(dir, '.vscode'), { recursive: true });
  writeFileSync(join(dir, '.vscode', 'settings.json'), `${JSON.stringify(workspaceSettings, null, 2)}\n`);
  return dir;
}
