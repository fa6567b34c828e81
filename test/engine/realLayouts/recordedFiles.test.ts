// The recorded hub files (fixtures/hub/) against each other and against what the docs claim from
// them: every folder has its provenance in SOURCES.md; a recorded tokenizer.json and the
// tokenizer_config.json beside it name the same added tokens at the same ids; and the fill-in-the-
// middle markers the fixtures' tokenizers carry are the ones the README promises (none for SmolLM2,
// whose real tokenizer.json is recorded; StarCoder's and Qwen2.5-Coder's spellings for those).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HUB_MODELS, hubModel, recordedDir, writeHubModel } from '../../../fixtures/hubModels';
import { buildCompletionPrompt } from '../../../src/engine/complete/prompt';
import { findFimTokens } from '../../../src/engine/tokenizer/fimTokens';
import { loadTokenizer } from '../../../src/engine/tokenizer/tokenizer';

const HUB = join(__dirname, '../../../fixtures/hub');
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

interface AddedToken {
  content: string;
  special: boolean;
}

test('every recorded folder has its sources in SOURCES.md', () => {
  const sources = readFileSync(join(HUB, 'SOURCES.md'), 'utf8');
  const folders = readdirSync(HUB, { withFileTypes: true }).filter((d) => d.isDirectory());
  assert.ok(folders.length >= 11);
  for (const f of folders)
    assert.ok(sources.includes(`| \`${f.name}\` |`), `${f.name} has a row in SOURCES.md`);
});

test('a recorded tokenizer.json and its tokenizer_config.json agree on every added token and id', () => {
  const recorded = HUB_MODELS.flatMap((m) =>
    typeof m.vocabulary === 'object' ? [m.vocabulary.recorded] : [],
  );
  assert.deepEqual([...new Set(recorded)].sort(), [
    'HuggingFaceTB/SmolLM2-135M-Instruct',
    'TinyLlama/TinyLlama-1.1B-Chat-v1.0',
  ]);
  for (const m of HUB_MODELS) {
    if (typeof m.vocabulary !== 'object') continue;
    const tokenizer = readJson(join(recordedDir(m.vocabulary.recorded), 'tokenizer.json'));
    const fromTokenizer = (tokenizer.added_tokens as ({ id: number } & AddedToken)[]).map((t) => [
      t.id,
      t.content,
      t.special,
    ]);
    const decoder = readJson(join(recordedDir(m.id), 'tokenizer_config.json')).added_tokens_decoder as Record<
      string,
      AddedToken
    >;
    const fromConfig = Object.entries(decoder).map(([id, t]) => [Number(id), t.content, t.special]);
    assert.deepEqual(fromConfig, fromTokenizer, m.id);
  }
});

test("the fixtures' FIM markers are the real tokenizers': none for SmolLM2, so its completions are prefix-only", async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'lt-fim-'));
  const tokenizerOf = async (id: string) => {
    const dir = join(tmp, id.replace('/', '--'));
    writeHubModel(dir, hubModel(id), 0);
    return loadTokenizer(dir);
  };
  const smol = await tokenizerOf('HuggingFaceTB/SmolLM2-135M');
  assert.equal(findFimTokens(smol), null);
  assert.equal(smol.tokenId('<fim_prefix>'), undefined);
  assert.equal(smol.tokenId('<repo_name>'), 3, 'a real SmolLM2 special token is there');
  const prompt = buildCompletionPrompt({
    prefix: 'def add(a, b):\n    return ',
    suffix: '\n',
    tokenizer: smol,
    fim: findFimTokens(smol),
    budgetTokens: 64,
  });
  assert.deepEqual(prompt.ids, smol.encode('def add(a, b):\n    return '));

  assert.deepEqual(findFimTokens(await tokenizerOf('bigcode/tiny_starcoder_py')), {
    style: 'starcoder',
    prefix: 1,
    middle: 2,
    suffix: 3,
  });
  assert.deepEqual(findFimTokens(await tokenizerOf('Qwen/Qwen2.5-Coder-0.5B')), {
    style: 'qwen',
    prefix: 151659,
    middle: 151660,
    suffix: 151661,
  });
});
