// Watching the completions: a tiny model tuned (unscrubbed) on a file that holds a GitHub token
// writes that token when the cursor sits where it was; the completion worker (forked for real)
// answers with the token masked and counts it — the count the editor adds to the dashboard's
// "outputs masked". Generation itself is checked to have produced the secret, so the mask is real.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeChatModel } from '../../fixtures/tinyChat';
import { Completer } from '../../src/engine/complete/completer';
import { Decoder } from '../../src/engine/generate/decoder';
import { loadModel } from '../../src/engine/models';
import { loadTokenizer } from '../../src/engine/tokenizer/tokenizer';
import { CompletionClient, type CompletionRequest } from '../../src/jobs/completionClient';
import { PLANTED_SECRET, tuneOnFile } from './chatTune';

const WORKER = join(__dirname, '../../src/jobs/workers/complete.ts');

const REQ: CompletionRequest = {
  prefix: 'const DEPLOY_TOKEN = "',
  suffix: '',
  languageId: 'javascript',
  multiline: 'single',
  maxTokens: 64,
  timeBudgetMs: 60_000,
};

test('the completion worker masks a secret the tuned model writes, and counts it', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'lt-complete-mask-'));
  const base = join(tmp, 'base');
  writeChatModel(base);
  const data = join(tmp, 'config.js');
  writeFileSync(data, `const DEPLOY_TOKEN = "${PLANTED_SECRET}";\n`.repeat(24));
  const tuned = await tuneOnFile(base, join(tmp, 'run'), data, 150);

  // Unmasked, straight from the engine: the model learned the token.
  const model = loadModel(tuned);
  try {
    const completer = new Completer(
      await Decoder.fromModel(model, { threads: 1 }),
      await loadTokenizer(tuned),
    );
    const raw = await completer.complete(REQ);
    assert.ok(raw.text.startsWith(PLANTED_SECRET), JSON.stringify(raw.text));
  } finally {
    model.weights.close();
  }

  const client = await CompletionClient.start({
    workerPath: WORKER,
    model: { modelDir: tuned },
    dtype: 'fp32',
    env: { OMP_NUM_THREADS: '1' },
  });
  t.after(() => client.dispose());
  const result = await client.complete(REQ);
  assert.ok(result);
  assert.ok(result.text.startsWith('<GITHUB_TOKEN>'), JSON.stringify(result.text));
  assert.ok(!result.text.includes('ghp_'), JSON.stringify(result.text));
  assert.equal(result.masked, 1);
});
