/** The README of a hand-off folder: what is in it, the one command to launch, how to bring it home. */
import { AXOLOTL_CONFIG_FILE } from './axolotl';
import type { JobDataFiles } from './dataFiles';
import { ENGINE_OUTPUT_DIR, JOB_FILE } from './jobFile';
import type { HandoffPlan } from './plan';
import { TRL_SCRIPT_FILE } from './trl';
import { ENGINE_VERSIONS, type Engine } from './versions';

const LAUNCH: Record<Engine, { install: string; one: string; several: string }> = {
  axolotl: {
    install: `pip install "axolotl==${ENGINE_VERSIONS.axolotl}"`,
    one: `axolotl train ${AXOLOTL_CONFIG_FILE}`,
    several: `accelerate launch -m axolotl.cli.train ${AXOLOTL_CONFIG_FILE}`,
  },
  trl: {
    install: `pip install "trl==${ENGINE_VERSIONS.trl}" "peft==${ENGINE_VERSIONS.peft}" "transformers==${ENGINE_VERSIONS.transformers}" "accelerate==${ENGINE_VERSIONS.accelerate}" datasets`,
    one: `python ${TRL_SCRIPT_FILE}`,
    several: `accelerate launch ${TRL_SCRIPT_FILE}`,
  },
};

export function jobReadme(
  engine: Engine,
  plan: HandoffPlan,
  files: JobDataFiles,
  localBase: boolean,
): string {
  const l = LAUNCH[engine];
  const config = engine === 'axolotl' ? AXOLOTL_CONFIG_FILE : TRL_SCRIPT_FILE;
  const data = [files.train.text, files.train.segments, files.validation?.text, files.validation?.segments]
    .filter(Boolean)
    .map((f) => `- \`${f}\``)
    .join('\n');
  const batch = plan.microBatchSize * plan.gradientAccumulation;
  return `# LocalTune hand-off: ${engine === 'axolotl' ? 'Axolotl' : 'TRL'}

This folder is a LocalTune run handed to ${engine === 'axolotl' ? `Axolotl ${ENGINE_VERSIONS.axolotl}` : `TRL ${ENGINE_VERSIONS.trl}`}: the dataset exactly as LocalTune
built it (scrubbed, deduplicated, FIM-formatted, the same train/held-out split) and the same
hyperparameters in the engine's own config.

Written for: ${Object.entries(ENGINE_VERSIONS)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}.

## Launch

\`\`\`sh
${l.install}
cd <this folder>
${l.one}                       # one GPU
${l.several}   # several GPUs (DeepSpeed/FSDP: \`accelerate config\` first)
\`\`\`

Base model: \`${plan.baseModel}\`${localBase ? ' — a folder on the machine that wrote this job: copy it to the GPU machine and put its path (or its hub id) in `' + config + '`.' : ' (downloaded from the Hugging Face hub).'}

One optimizer step takes ${batch} sequences of ${plan.seqLen} tokens on one GPU
(${plan.microBatchSize} per pass × ${plan.gradientAccumulation} accumulated). On N GPUs the step is N times larger:
divide the gradient accumulation by N to keep LocalTune's batch.

## Files

- \`${config}\`: the engine's config
${data}
- \`${JOB_FILE}\`: what LocalTune needs when the result comes home (keep it)

## Bring the result home

Copy this folder back (at least \`${ENGINE_OUTPUT_DIR}/\` and \`${JOB_FILE}\`) and run

\`\`\`sh
localtune job import <this folder>
\`\`\`

or "Import Run…" in LocalTune's Runs view. The adapter (\`${ENGINE_OUTPUT_DIR}/adapter_model.safetensors\`, or
a merged model) and its loss history (\`trainer_state.json\`) become a LocalTune run: its dashboard,
evaluation against the base on LocalTune's held-out files, export and Use for Completions.

## Not identical to a LocalTune run

- Packing: LocalTune trains on windows cut from the documents packed back to back; ${engine === 'axolotl' ? 'Axolotl packs whole documents into each sequence (sample_packing)' : 'TRL\'s "wrapped" packing cuts the same way, in its own order'}, so step losses differ slightly.
- Precision: bf16 on GPUs that have it; LocalTune trains in fp32.
`;
}
