// The BOS a tokenizer puts before a text, as transformers' tokenizer does for each model's real
// tokenizer files (fixtures/hub): Llama 2's LlamaTokenizer adds <s> because tokenizer_config.json
// says add_bos_token (and drops it when the config says false, whatever tokenizer.json's template
// holds); Llama 3's TemplateProcessing adds <|begin_of_text|>; the GPT-2-style tokenizers of GPT-2,
// SmolLM2, Qwen2.5 and StarCoder add nothing. Completion prompts lead with that BOS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HUB_MODELS, hubModel, writeHubModel } from '../../../fixtures/hubModels';
import { buildCompletionPrompt } from '../../../src/engine/complete/prompt';
import { findFimTokens } from '../../../src/engine/tokenizer/fimTokens';
import { loadTokenizer } from '../../../src/engine/tokenizer/tokenizer';

const tmp = mkdtempSync(join(tmpdir(), 'lt-bos-'));
const EXPECTED: Record<string, number[]> = {
  'openai-community/gpt2': [],
  'distilbert/distilgpt2': [],
  'HuggingFaceTB/SmolLM2-135M': [],
  'HuggingFaceTB/SmolLM2-135M-Instruct': [],
  'Qwen/Qwen2.5-Coder-0.5B': [],
  'Qwen/Qwen2.5-Coder-0.5B-Instruct': [],
  'TinyLlama/TinyLlama-1.1B-Chat-v1.0': [1],
  'meta-llama/Llama-3.2-1B': [128000],
  'bigcode/tiny_starcoder_py': [],
  'bigcode/starcoderbase-1b': [],
};

function folder(id: string): string {
  const dir = join(tmp, id.replace('/', '--'));
  writeHubModel(dir, hubModel(id), 0);
  return dir;
}

test('each listed model gets the BOS its tokenizer config asks for, and only that', async () => {
  assert.deepEqual(Object.keys(EXPECTED).sort(), HUB_MODELS.map((m) => m.id).sort());
  for (const [id, bos] of Object.entries(EXPECTED)) {
    const tokenizer = await loadTokenizer(folder(id));
    assert.deepEqual([...tokenizer.prefixIds], bos, id);
    assert.ok(!tokenizer.encode('x = 1').some((t) => bos.includes(t)), `${id}: encode adds no BOS`);
  }
});

test('a LlamaTokenizer config with add_bos_token false gets no BOS, though tokenizer.json templates one', async () => {
  const dir = folder('TinyLlama/TinyLlama-1.1B-Chat-v1.0');
  const file = join(dir, 'tokenizer_config.json');
  const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  writeFileSync(file, JSON.stringify({ ...config, add_bos_token: false }));
  const template = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')).post_processor;
  assert.equal(template.type, 'TemplateProcessing');
  assert.deepEqual([...(await loadTokenizer(dir)).prefixIds], []);
});

test('a Llama prefix-only completion prompt starts with <s>; a Qwen FIM prompt with <|fim_prefix|>', async () => {
  const llama = await loadTokenizer(folder('TinyLlama/TinyLlama-1.1B-Chat-v1.0'));
  const text = 'function add(a, b) {\n  return a + b;\n}\n'.repeat(20);
  const p = buildCompletionPrompt({
    prefix: text,
    suffix: '',
    tokenizer: llama,
    fim: null,
    budgetTokens: 40,
  });
  assert.equal(p.ids[0], 1);
  assert.ok(p.ids.length <= 40, `${p.ids.length} tokens within the budget`);
  assert.deepEqual(p.ids.slice(1), llama.encode(text.slice(p.prefixStart)).slice(-(p.ids.length - 1)));

  const qwen = await loadTokenizer(folder('Qwen/Qwen2.5-Coder-0.5B'));
  const fim = findFimTokens(qwen);
  assert.ok(fim);
  const q = buildCompletionPrompt({ prefix: 'x = ', suffix: '\n', tokenizer: qwen, fim, budgetTokens: 40 });
  assert.equal(q.ids[0], qwen.tokenId('<|fim_prefix|>'));
  assert.equal(q.ids[0], 151659);
});

test('training data starts text documents with the BOS (no loss on it) and leaves chat documents to their template', async () => {
  const { tokenStreamFromFiles } = await import('../../../src/data/datasetFiles');
  const dir = folder('TinyLlama/TinyLlama-1.1B-Chat-v1.0');
  const tokenizer = await loadTokenizer(dir);
  const text = join(tmp, 'notes.txt');
  writeFileSync(text, 'function add(a, b) { return a + b; }\n');
  const plain = await tokenStreamFromFiles([text], tokenizer, { modelDir: dir });
  assert.equal(plain.ids[0], 1, 'the text document starts with <s>');
  assert.equal(plain.weights[0], 0, 'the BOS carries no loss');
  assert.equal(plain.ids.filter((id) => id === 1).length, 1, 'one BOS, not two');

  const chat = join(tmp, 'chat.jsonl');
  writeFileSync(
    chat,
    JSON.stringify({
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
      ],
    }) + '\n',
  );
  const turns = await tokenStreamFromFiles([chat], tokenizer, { modelDir: dir });
  // TinyLlama's chat template writes no <s>, and apply_chat_template adds no special tokens.
  assert.equal(turns.ids.filter((id) => id === 1).length, 0, 'the chat template places the BOS itself');
});

test('localtune score --text scores after the BOS, as transformers would encode the text', async () => {
  const { cli } = await import('../../cli/capture');
  const dir = folder('TinyLlama/TinyLlama-1.1B-Chat-v1.0');
  const r = await cli('score', '--model', dir, '--text', 'return a + b;', '--json');
  assert.equal(r.code, 0, r.err.join('\n'));
  const { ids } = JSON.parse(r.out[0]) as { ids: number[] };
  const tokenizer = await loadTokenizer(dir);
  assert.deepEqual(ids, [1, ...tokenizer.encode('return a + b;')]);
});
