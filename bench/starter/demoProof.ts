/**
 * Does tuning the starter on the demo workspace help it complete the held-out file? The editor's
 * proof (issue: the starter model) asserts it with margins; this measures those margins over
 * seeds, through the CLI exactly as a user would run it: a fresh demo workspace (its newest commit,
 * src/orders.ts, held out by the recency split), `dataset build`, `train`, then `eval` (held-out
 * loss, and the completion benchmark's exact match and edit similarity, base vs tuned). The run is
 * the e2e suite's (scripts/starter/proof.ts PROOF_RECIPE); --mode, --steps and --lr try others.
 *
 *   npx tsx bench/starter/demoProof.ts [--model DIR] [--seeds 0,1,2] [--mode lora|full] [--steps N] [--lr X]
 *
 * Not a timing benchmark (it may run beside other work). Prints ONE JSON document on stdout:
 * per seed the figures, and the smallest improvement of each over the seeds.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EvalReport } from '../../src/eval/report';
import { PROOF_MARGINS, PROOF_RECIPE, proofFlags } from '../../scripts/starter/proof';
import { writeDemoWorkspace } from '../../scripts/vscode/workspace.mjs';

const root = join(__dirname, '..', '..');
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
};
const model = arg('model', join(root, 'models', 'starter'));
const seeds = arg('seeds', '0,1,2').split(',').map(Number);
const mode = arg('mode', PROOF_RECIPE.mode);
const steps = arg('steps', String(PROOF_RECIPE.steps));
const lr = arg('lr', String(PROOF_RECIPE.lr));

const cli = (args: string[]) => {
  process.stderr.write(`localtune ${args.join(' ')}\n`);
  return execFileSync(process.execPath, [join(root, 'dist', 'cli.js'), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 26,
  });
};

type Figures = { loss: number; exactMatch: number; editSimilarity: number };
const figures = (side: EvalReport['base']): Figures => ({
  loss: side.validationLoss!,
  exactMatch: side.completion!.exactMatch,
  editSimilarity: side.completion!.editSimilarity,
});

const tmp = mkdtempSync(join(tmpdir(), 'localtune-proof-'));
const results: { seed: number; base: Figures; tuned: Figures }[] = [];
try {
  for (const seed of seeds) {
    const ws = writeDemoWorkspace(join(tmp, `ws-${seed}`), { modelDir: model, randomWeights: false });
    const data = join(ws, '.localtune', 'datasets', 'demo');
    cli([
      'dataset',
      'build',
      '--from',
      ws,
      '--model',
      model,
      '--out',
      data,
      '--split',
      'recency',
      '--exclude',
      '.localtune/',
    ]);
    const run = join(ws, '.localtune', 'runs', 'proof');
    cli([
      'train',
      '--model',
      model,
      '--data',
      data,
      ...proofFlags({ mode: mode as 'lora' | 'full', steps: Number(steps), lr: Number(lr) }),
      '--seed',
      String(seed),
      '--out',
      run,
    ]);
    const tuned = join(run, mode === 'full' ? 'model' : 'adapter');
    const report = JSON.parse(
      cli(['eval', '--model', model, '--adapter', tuned, '--data', data, '--seed', String(seed), '--json'])
        .trim()
        .split('\n')
        .at(-1)!,
    ) as EvalReport;
    results.push({ seed, base: figures(report.base), tuned: figures(report.tuned!) });
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
const least = (f: (r: (typeof results)[number]) => number) => Math.min(...results.map(f));
console.log(
  JSON.stringify(
    {
      model,
      mode,
      steps: Number(steps),
      lr: Number(lr),
      seeds: results,
      margins: PROOF_MARGINS,
      smallestGain: {
        lossDrop: least((r) => r.base.loss - r.tuned.loss),
        exactMatch: least((r) => r.tuned.exactMatch - r.base.exactMatch),
        editSimilarity: least((r) => r.tuned.editSimilarity - r.base.editSimilarity),
      },
    },
    null,
    2,
  ),
);
