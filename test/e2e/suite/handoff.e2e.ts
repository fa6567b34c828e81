/// <reference types="mocha" />
// Hand-off in a real extension host: the Fine-tune form's Train elsewhere writes the form's run as
// an Axolotl job (in the hand-off worker); what an engine saves into the job's output/ (here a
// LoRA adapter trained by LocalTune itself, with HF Trainer's trainer_state.json written from its
// losses) comes back through Import Run… as a finished run whose dashboard draws its losses; the
// command also writes a TRL job for a run's spec.
import * as assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { summarizeRun } from '../../../src/jobs/runs';
import { screenshot, waitFor } from './helpers';
import {
  afterReload,
  configureFastTraining,
  localtune,
  startRun,
  stepsIn,
  waitForOutcome,
} from './localtuneHelpers';
import { dashboardState } from './reloadHelpers';

if (!afterReload())
  describe('LocalTune hand-off', function () {
    it('Train elsewhere from the form, Import Run… back into the Runs view and dashboard', async function () {
      this.timeout(420_000);
      const api = await localtune();
      await configureFastTraining();
      const ws = vscode.workspace.workspaceFolders![0].uri.fsPath;
      const model = process.env.LOCALTUNE_E2E_MODEL!;
      const dataset = (await vscode.commands.executeCommand<string>('localtune.buildDataset'))!;

      // The form's Train elsewhere button, with the engine pick answered.
      await vscode.commands.executeCommand('localtune.startFineTuning');
      await waitFor(
        'the Fine-tune form',
        async () =>
          (await vscode.commands.executeCommand<{ values?: unknown }>('localtune.finetune.debugState'))
            ?.values,
      );
      const jobDir = join(ws, '.localtune', 'handoff', `e2e-axolotl-${Date.now()}`);
      const written = await vscode.commands.executeCommand<string | undefined>(
        'localtune.finetune.debugHandoff',
        { engine: 'axolotl', outDir: jobDir },
      );
      const form = await vscode.commands.executeCommand<{ error?: string }>('localtune.finetune.debugState');
      assert.equal(written, jobDir, `Train elsewhere wrote nothing (form: ${form?.error ?? 'no error'})`);
      for (const file of ['job.yml', 'README.md', 'localtune-job.json', 'data/train.jsonl'])
        assert.ok(existsSync(join(jobDir, file)), file);
      assert.match(readFileSync(join(jobDir, 'job.yml'), 'utf8'), /^adapter: lora$/m);
      await screenshot('handoff-form-train-elsewhere');

      // What the engine saves: an adapter and trainer_state.json in output/checkpoint-N/.
      const trained = await startRun({
        model,
        dataset,
        preset: 'lora',
        steps: 4,
        title: 'e2e hand-off source',
      });
      assert.equal((await waitForOutcome(api, trained)).status, 'finished');
      const output = join(jobDir, 'output');
      cpSync(summarizeRun(trained).record!.finalDir!, output, { recursive: true });
      const steps = stepsIn(trained).filter((e) => e.type === 'step');
      mkdirSync(join(output, 'checkpoint-4'), { recursive: true });
      writeFileSync(
        join(output, 'checkpoint-4', 'trainer_state.json'),
        JSON.stringify({
          global_step: 4,
          max_steps: 4,
          log_history: steps.map((e) =>
            e.type === 'step'
              ? { step: e.step, loss: e.loss + 0.5, learning_rate: e.lr, grad_norm: e.gradNorm }
              : {},
          ),
        }),
      );

      const imported = await vscode.commands.executeCommand<string | undefined>('localtune.importRun', {
        dir: jobDir,
      });
      assert.ok(imported, 'Import Run… made a run');
      const run = summarizeRun(imported);
      assert.equal(run.status, 'finished');
      assert.equal(run.step, 4);
      assert.equal(run.record?.importedFrom?.engine, 'axolotl');
      assert.ok(existsSync(join(imported, 'adapter', 'adapter_model.safetensors')));
      await waitFor('the dashboard to draw the imported losses', async () => {
        const s = await dashboardState(imported);
        return s && s.points >= 4;
      });
      await new Promise((r) => setTimeout(r, 1000));
      await screenshot('handoff-imported-dashboard');

      // The command on a run's spec, for TRL.
      const trlDir = join(ws, '.localtune', 'handoff', `e2e-trl-${Date.now()}`);
      const trl = await vscode.commands.executeCommand<string | undefined>(
        'localtune.trainElsewhere',
        run.record!.spec,
        'e2e trl',
        { engine: 'trl', outDir: trlDir },
      );
      assert.equal(trl, trlDir);
      assert.match(readFileSync(join(trlDir, 'train.py'), 'utf8'), /SFTConfig\(\*\*SFT_ARGS/);
    });
  });
