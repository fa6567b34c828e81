// The Llama GGUF writer (bench/peers/gguf.ts) against llama.cpp itself: a tiny random SmolLM2-layout
// model (2 layers, hidden 64, 4 query heads sharing 2 key/value heads, head size 16, SmolLM2's real
// tokenizer) written to f32 GGUF; llama.cpp's greedy tokens must equal our fp32 decoder's. Random
// weights wide enough that a wrong q/k row order (HF's rotate-half vs GGUF's adjacent pairs) or a
// wrong RoPE base changes the tokens. Installs the llama.cpp peer when missing (node-llama-cpp's
// prebuilt binaries from npm, in bench/peers/llamacpp); only outside CI does a failed install skip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLlamaGguf } from '../../bench/peers/gguf';
import { ensureLlamaCpp, runLlamaCpp } from '../../bench/peers/llamaCppPeer';
import { hubModel, writeHubModel } from '../../fixtures/hubModels';
import { Decoder } from '../../src/engine/generate/decoder';
import { loadModel } from '../../src/engine/models';
import { Rng } from '../../src/engine/rng';

const NEW_TOKENS = 24;

function llamaCppSkip(): false | string {
  try {
    ensureLlamaCpp();
    return false;
  } catch (err) {
    if (process.env.CI) throw err;
    process.stderr.write(`\n*** llama.cpp peer missing: GGUF parity test SKIPPED (${String(err)}) ***\n\n`);
    return 'no node-llama-cpp: its npm install in bench/peers/llamacpp failed';
  }
}

test(
  "llama.cpp's greedy tokens on our Llama GGUF equal our fp32 decoder's",
  { skip: llamaCppSkip() },
  async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'lt-gguf-'));
    try {
      const smol = hubModel('HuggingFaceTB/SmolLM2-135M');
      const dir = join(tmp, 'model');
      writeHubModel(
        dir,
        { ...smol, tiny: { ...smol.tiny, hidden_size: 64, head_dim: 16, intermediate_size: 128 } },
        3,
      );
      const gguf = join(tmp, 'model-f32.gguf');
      writeLlamaGguf(dir, gguf, 'f32');
      const rng = new Rng(11);
      const prompt = Array.from({ length: 40 }, () => 17 + rng.nextInt(49152 - 17)); // no special tokens
      const promptFile = join(tmp, 'prompt.json');
      writeFileSync(promptFile, JSON.stringify(prompt));

      const model = loadModel(dir);
      const decoder = await Decoder.fromModel(model, { dtype: 'fp32', threads: 1 });
      model.weights.close();
      const ours: number[] = [];
      await decoder.generate(prompt, {
        maxTokens: NEW_TOKENS,
        promptCache: false,
        onToken: (t) => ours.push(t),
      });
      const [theirs] = runLlamaCpp(gguf, promptFile, NEW_TOKENS, 1, 1, 'exact');
      assert.equal(ours.length, NEW_TOKENS, 'our decoder stopped early (an end-of-sequence token)');
      assert.deepEqual(theirs.tokens, ours);
      assert.ok(new Set(ours).size > 4, `a degenerate run proves little: ${ours.join(' ')}`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  },
);
