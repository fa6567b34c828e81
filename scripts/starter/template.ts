// The starter model's template: its config.json (Llama architecture, scripts/starter/config.json),
// the GPT-2 tokenizer with StarCoder-style fill-in-the-middle tokens, and freshly drawn weights.
// Pretraining starts from it. Usage: node --import tsx scripts/starter/template.ts [--dir DIR]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GPT2_EOS_ID, writeGpt2TokenizerFiles } from '../../fixtures/gpt2Tokenizer';
import { initModelFolder } from '../../src/engine/models';
import { starterDir } from './paths.mjs';

export const FIM_TOKENS = ['<fim_prefix>', '<fim_middle>', '<fim_suffix>', '<fim_pad>'];

const here = new URL('.', import.meta.url).pathname;
const out = join(starterDir(process.argv), 'template');
const configFile = join(here, 'config.json');
const config = JSON.parse(readFileSync(configFile, 'utf8'));
initModelFolder(out, config, configFile, 0);
writeGpt2TokenizerFiles(out, {
  extraSpecialTokens: FIM_TOKENS,
  modelMaxLength: config.max_position_embeddings,
});
writeFileSync(
  join(out, 'generation_config.json'),
  JSON.stringify(
    { bos_token_id: GPT2_EOS_ID, eos_token_id: GPT2_EOS_ID, pad_token_id: config.pad_token_id },
    null,
    2,
  ) + '\n',
);
console.log(`starter template written to ${out}`);
