// Shared fixtures for the data-layer tests: temp folders with real files and real git repos.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after } from 'node:test';
import { writeGpt2TokenizerFiles } from '../../fixtures/gpt2Tokenizer';
import { loadTokenizer, type Tokenizer } from '../../src/engine/tokenizer/tokenizer';

/** A fresh temp folder, removed when the test file ends. */
export function tempDir(label = 'data'): string {
  const dir = mkdtempSync(join(tmpdir(), `localtune-${label}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes files (path -> content) under `root`, creating folders. */
export function writeTree(root: string, files: Record<string, string | Uint8Array>): void {
  for (const [rel, content] of Object.entries(files)) {
    const path = join(root, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
}

const IDENTITY = {
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@t',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@t',
};

export function git(cwd: string, args: string[], env: Record<string, string> = {}): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...IDENTITY, ...env } });
}

/** Commits `files` into a repo at `root` (made on first use), with an explicit date so order is certain. */
export function commit(root: string, files: Record<string, string>, message: string, date: string): void {
  git(root, ['init', '-q', '-b', 'main']);
  writeTree(root, files);
  git(root, ['add', ...Object.keys(files)]);
  git(root, ['commit', '-q', '-m', message], { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date });
}

/** Some ordinary hand-written code, distinct per `n`. */
export function codeFile(n: number, lines = 30): string {
  const out: string[] = [`// module ${n}: helpers for feature ${n * 7}`];
  for (let i = 0; i < lines; i++) {
    out.push(
      `export function f${n}_${i}(x: number): number {`,
      `  return x * ${n + i} + ${(n * 31 + i * 17) % 97};`,
      '}',
    );
  }
  return out.join('\n') + '\n';
}

export const FIM_STARCODER = ['<fim_prefix>', '<fim_middle>', '<fim_suffix>', '<fim_pad>'];
export const FIM_QWEN = ['<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>', '<|fim_pad|>'];

/** A model folder with the real GPT-2 tokenizer (and optional extra special tokens), plus the loaded tokenizer. */
export async function gpt2Fixture(
  extraSpecialTokens: string[] = [],
  chatTemplate?: string,
): Promise<{ modelDir: string; tokenizer: Tokenizer }> {
  const modelDir = tempDir('model');
  writeGpt2TokenizerFiles(modelDir, { extraSpecialTokens });
  if (chatTemplate) {
    const path = join(modelDir, 'tokenizer_config.json');
    const config = JSON.parse(readFileSync(path, 'utf8'));
    writeFileSync(path, JSON.stringify({ ...config, chat_template: chatTemplate }));
  }
  return { modelDir, tokenizer: await loadTokenizer(modelDir) };
}

/** ChatML, as Qwen2 and SmolLM2 ship it. */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** A template that insists on user/assistant alternation, as Llama-2 and Mistral templates do. */
export const ALTERNATING_TEMPLATE =
  "{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}" +
  "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}" +
  "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% else %}{{ message['content'] + eos_token }}{% endif %}{% endfor %}";
