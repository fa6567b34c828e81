// What `localtune job import` refuses, each in one line with exit code 2 and no run folder left:
// an adapter for another base model (by shape or by hub name), a target module our graphs do not
// adapt, PEFT features we do not apply, a merged model of another architecture, a folder with
// nothing saved. A merged model of the same architecture comes home as a full fine-tune.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from '../../cli/capture';
import { writeSafetensors, type WritableTensor } from '../../../src/engine/formats/safetensors';
import { JOB_FILE, type JobFile } from '../../../src/jobs/handoff/jobFile';
import { summarizeRun } from '../../../src/jobs/runs';
import { writeLlamaModel, TINY_LLAMA } from '../../../fixtures/tinyLlama';
import { exportedJob, handoffFixture } from './fixture';

const R = 2;
const HIDDEN = TINY_LLAMA.hidden;

/** A PEFT adapter as PEFT saves it: `tensors` maps module paths to their [in, out] sizes. */
function writeAdapter(
  dir: string,
  tensors: Record<string, [number, number]>,
  config: Record<string, unknown> = {},
) {
  mkdirSync(dir, { recursive: true });
  const out: Record<string, WritableTensor> = {};
  for (const [module, [inF, outF]] of Object.entries(tensors)) {
    out[`base_model.model.${module}.lora_A.weight`] = {
      dtype: 'F32',
      shape: [R, inF],
      data: new Float32Array(R * inF).fill(0.01),
    };
    out[`base_model.model.${module}.lora_B.weight`] = {
      dtype: 'F32',
      shape: [outF, R],
      data: new Float32Array(outF * R).fill(0.01),
    };
  }
  writeSafetensors(join(dir, 'adapter_model.safetensors'), out, { format: 'pt' });
  const modules = [...new Set(Object.keys(tensors).map((m) => m.split('.').at(-1)))];
  writeFileSync(
    join(dir, 'adapter_config.json'),
    JSON.stringify({
      peft_type: 'LORA',
      r: R,
      lora_alpha: 4,
      target_modules: modules,
      bias: 'none',
      use_dora: false,
      ...config,
    }),
  );
}

test('job import refuses what LocalTune cannot apply, in one line, leaving no run', async (t) => {
  const f = await handoffFixture();
  const job = await exportedJob(f, 'trl', [
    '--steps',
    '2',
    '--seq-len',
    '64',
    '--batch-tokens',
    '128',
    '--micro-batch-tokens',
    '128',
  ]);
  let n = 0;
  /** A copy of the job whose engine saved what `save` writes into output/. */
  const jobWith = (save: (output: string) => void, edit?: (jobFile: JobFile) => void) => {
    const dir = join(f.root, `job-${n++}`);
    cpSync(job, dir, { recursive: true });
    save(join(dir, 'output'));
    if (edit) {
      const file = JSON.parse(readFileSync(join(dir, JOB_FILE), 'utf8')) as JobFile;
      edit(file);
      writeFileSync(join(dir, JOB_FILE), JSON.stringify(file));
    }
    return dir;
  };
  const refused = async (dir: string, pattern: RegExp) => {
    const runDir = join(f.root, 'runs', `refused-${n}`);
    const r = await cli('job', 'import', dir, '--out', runDir);
    assert.equal(r.code, 2, r.out.join('\n'));
    assert.equal(r.err.length, 1, r.err.join('\n'));
    assert.match(r.err[0], pattern);
    assert.ok(!existsSync(runDir), 'no run folder is left behind');
  };

  await t.test('an adapter shaped for another base model', () =>
    refused(
      jobWith((o) => writeAdapter(o, { 'model.layers.0.self_attn.q_proj': [HIDDEN / 2, HIDDEN / 2] })),
      /q_proj.*shape.*another model/,
    ),
  );
  await t.test('an adapter that names another hub model', () =>
    refused(
      jobWith(
        (o) =>
          writeAdapter(
            o,
            { 'model.layers.0.self_attn.q_proj': [HIDDEN, HIDDEN] },
            { base_model_name_or_path: 'Qwen/Qwen2.5-Coder-7B' },
          ),
        (file) => (file.plan.baseModel = 'Qwen/Qwen2.5-Coder-0.5B'),
      ),
      /trained on Qwen\/Qwen2\.5-Coder-7B, this job on Qwen\/Qwen2\.5-Coder-0\.5B/,
    ),
  );
  await t.test('a target module our graphs do not adapt (the LM head)', () =>
    refused(
      jobWith((o) =>
        writeAdapter(o, { 'model.layers.0.self_attn.q_proj': [HIDDEN, HIDDEN], lm_head: [HIDDEN, 50265] }),
      ),
      /target module lm_head is not supported for qwen2: LocalTune adapts q_proj, k_proj/,
    ),
  );
  await t.test('an embedding target listed in the config', () =>
    refused(
      jobWith((o) =>
        writeAdapter(
          o,
          { 'model.layers.0.self_attn.q_proj': [HIDDEN, HIDDEN] },
          { target_modules: ['q_proj', 'embed_tokens'] },
        ),
      ),
      /target module embed_tokens is not supported/,
    ),
  );
  await t.test('DoRA', () =>
    refused(
      jobWith((o) =>
        writeAdapter(o, { 'model.layers.0.self_attn.q_proj': [HIDDEN, HIDDEN] }, { use_dora: true }),
      ),
      /use_dora true \(DoRA\) is not supported/,
    ),
  );
  await t.test('a merged model of another architecture', () =>
    refused(
      jobWith((o) =>
        writeLlamaModel(o, { ...TINY_LLAMA, hidden: 32, intermediate: 80 }, 1, { modelType: 'qwen2' }),
      ),
      /not .*architecture/,
    ),
  );
  await t.test('nothing saved', () =>
    refused(
      jobWith(() => {}),
      /no adapter_config\.json, model config\.json or checkpoint-N/,
    ),
  );

  await t.test('a merged model of the same architecture comes home as a full fine-tune', async () => {
    const dir = jobWith((o) =>
      writeLlamaModel(o, TINY_LLAMA, 9, { modelType: 'qwen2', embeddingStd: 0.5, initStd: 0.12 }),
    );
    const runDir = join(f.root, 'runs', 'merged');
    const r = await cli('job', 'import', dir, '--out', runDir);
    assert.equal(r.code, 0, r.err.join('\n'));
    const run = summarizeRun(runDir);
    assert.equal(run.status, 'finished');
    assert.equal(run.record?.spec.mode, 'full');
    assert.equal(run.record?.finalDir, join(runDir, 'model'));
    assert.ok(existsSync(join(runDir, 'model', 'model.safetensors')));
  });
});
