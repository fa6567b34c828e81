// The starter model's card (README.md of models/starter/): what it is, the data (every package,
// version and licence), how it was trained, its figures and its limits.
export interface CorpusPackage {
  name: string;
  version: string;
  license: string;
  files: number;
  bytes: number;
}

export interface TrainingFigures {
  step: number;
  totalSteps: number;
  /** Tokens trained on so far. */
  tokens: number;
  /** Time spent in training steps (evaluations and checkpoints excluded). */
  seconds: number;
  /** Stages so far (one per working session; scripts/starter/stage.ts). */
  stages: number;
  trainTokens: number;
  validationTokens: number;
  evals: { step: number; loss: number }[];
  lastTrainLoss?: number;
}

interface CardInput {
  config: Record<string, number | string | boolean | null>;
  corpus: CorpusPackage[];
  heldOut: string[];
  figures: TrainingFigures;
  manifest: {
    skipped: Record<string, number>;
    scrub: { findings: Record<string, number> };
    fim: { documents: number; rate: number; pieceChars?: number };
  };
}

export function modelCard({ config, corpus, heldOut, figures: f, manifest }: CardInput): string {
  const params = countParams(config);
  const last = f.evals.at(-1);
  const first = f.evals[0];
  const partial = f.step < f.totalSteps;
  const mb = (n: number) => (n / 1e6).toFixed(2);
  return `---
license: mit
library_name: transformers
pipeline_tag: text-generation
tags: [code, javascript, typescript, fill-in-the-middle, localtune]
---

# LocalTune starter

A small code model that LocalTune pretrains from scratch with its own engine (training graphs built
in TypeScript, run by onnxruntime-node on a CPU) and ships as its offline default: the model to
fine-tune on your own code when no hub model can be downloaded.
${partial ? `\n**Pretraining is in progress**: this is step ${f.step} of ${f.totalSteps}. The figures below are for this step.\n` : ''}
## Model
- Architecture: Llama (RoPE θ ${config.rope_theta}, RMSNorm, SwiGLU, grouped-query attention): ${config.num_hidden_layers} layers, hidden ${config.hidden_size}, ${config.num_attention_heads} heads / ${config.num_key_value_heads} key-value heads, MLP ${config.intermediate_size}, context ${config.max_position_embeddings}, tied embeddings; ${(params / 1e6).toFixed(1)}M parameters, float16 weights.
- Tokenizer: GPT-2's byte-level BPE (50257 tokens) plus StarCoder-style fill-in-the-middle tokens \`<fim_prefix>\` \`<fim_middle>\` \`<fim_suffix>\` \`<fim_pad>\` (ids 50257-50260); the embedding is padded to ${config.vocab_size} rows.
- Loads with transformers (\`AutoModelForCausalLM.from_pretrained\`), with LocalTune, and with transformers.js on Node (below).

## Use with transformers.js
\`\`\`js
import { AutoModelForCausalLM, AutoTokenizer } from '@huggingface/transformers';
const tokenizer = await AutoTokenizer.from_pretrained('/path/to/starter');
const model = await AutoModelForCausalLM.from_pretrained('/path/to/starter', { local_files_only: true });
\`\`\`
\`model.onnx\` is the graph alone (about 0.2 MB, with a KV cache): its weights are ONNX external-data references into \`model.safetensors\`, so the folder holds one copy of them. \`onnx\` is a symlink to the folder itself, because transformers.js reads \`onnx/model.onnx\` and onnxruntime reads external data only from the model file's own folder. Where symlinks are not checked out (Windows without \`core.symlinks\`), pass \`subfolder: ''\` as well. In browsers (onnxruntime-web) the folder does not load: it needs the weights in \`onnx/model.onnx_data\`; \`localtune export\` writes such a folder.

## Data
${corpus.length} JavaScript/TypeScript packages from the npm registry (\`npm pack\`, versions pinned in the repository's \`scripts/starter/packages.json\`), permissive licences only, source files only (no type declarations, no maps), ${mb(corpus.reduce((a, p) => a + p.bytes, 0))} MB. LocalTune's own dataset pipeline filtered them (${Object.entries(
    manifest.skipped,
  )
    .map(([k, n]) => `${n} ${k}`)
    .join(', ')}), scrubbed secrets (${
    Object.entries(manifest.scrub.findings)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ') || 'none'
  }), and formatted ${manifest.fim.documents} documents as fill-in-the-middle (rate ${manifest.fim.rate}, PSM and SPM${manifest.fim.pieceChars ? `; a long file is cut at line ends into pieces of at most ${manifest.fim.pieceChars.toLocaleString('en-US')} characters, each rearranged or not on its own, since step 290: before it whole files were rearranged, so a training window rarely held a prefix together with its middle, and the held-out set changed with it` : ''}). Whole packages are held out for validation: ${heldOut.join(', ')}. Training tokens: ${f.trainTokens.toLocaleString('en-US')}; held-out tokens: ${f.validationTokens.toLocaleString('en-US')}.

| package | version | licence | files | MB |
|---|---|---|---:|---:|
${corpus.map((p) => `| ${p.name}${heldOut.includes(p.name) ? ' (held out)' : ''} | ${p.version} | ${p.license} | ${p.files} | ${mb(p.bytes)} |`).join('\n')}

## Training
\`localtune train --init random --mode full\`, then \`--mode full\` from the shipped weights, one stage per working session (see \`scripts/starter/pretrain.sh\` and \`stage.ts\`; the run folder does not outlive a session's machine): AdamW, weight decay 0.1, 16,384 tokens per step in sequences of 512, on 2 CPU cores. The plan's rate is 1e-3 with warmup and cosine decay over ${f.totalSteps} steps; each stage restarts its optimizer moments with a 10-step warmup to the plan's rate at its first step and decays to a tenth of it by its last, so every shipped snapshot is annealed (warm restarts).

- Steps: ${f.step} of ${f.totalSteps} in ${f.stages} stage${f.stages === 1 ? '' : 's'}; tokens trained: ${f.tokens.toLocaleString('en-US')}; time in training steps: ${(f.seconds / 3600).toFixed(1)} h (the machine was shared with other work: the rate per step varied from about 150 to 1,700 tokens/s).
- Held-out loss (nats/token, on the held-out packages): ${first ? `${first.loss.toFixed(3)} at step ${first.step}` : 'n/a'} → ${last ? `${last.loss.toFixed(3)} at step ${last.step}` : 'n/a'}${f.lastTrainLoss !== undefined ? `; last training loss ${f.lastTrainLoss.toFixed(3)}` : ''}.

![held-out loss by step](heldout-loss.svg)

| step | held-out loss |
|---:|---:|
${f.evals.map((e) => `| ${e.step} | ${e.loss.toFixed(4)} |`).join('\n')}

## Limits
- ${
    partial
      ? `Pretraining is unfinished (step ${f.step} of ${f.totalSteps}, ${(f.tokens / 1e6).toFixed(1)}M tokens): the model has learned frequent tokens and short idioms, not yet code structure; its completions are weak until the run completes.`
      : `A ${(params / 1e6).toFixed(0)}M-parameter model trained on ${(f.tokens / 1e6).toFixed(1)}M tokens: it knows common JavaScript/TypeScript syntax and idioms, not APIs in depth.`
  } It is a starting point for fine-tuning on your code, not an assistant.
- JavaScript and TypeScript only; no natural-language instruction following, no chat template.
- Its outputs can reproduce code from the packages above (all permissively licensed; see each licence).
`;
}

function countParams(c: CardInput['config']): number {
  const C = Number(c.hidden_size);
  const F = Number(c.intermediate_size);
  const H = Number(c.num_attention_heads);
  const KV = Number(c.num_key_value_heads);
  const D = Number(c.head_dim ?? C / H);
  const layer = 2 * C + C * H * D * 2 + 2 * C * KV * D + 3 * C * F;
  return Number(c.vocab_size) * C * (c.tie_word_embeddings ? 1 : 2) + Number(c.num_hidden_layers) * layer + C;
}
