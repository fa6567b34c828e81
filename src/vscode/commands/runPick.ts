/**
 * Which run, and which of its weights, a command acts on. A run folder given as a string (tests,
 * scripts, the dashboard) means its final weights; a Runs view node asks which weights when there
 * is a choice; a checkpoint node is that checkpoint; from the palette the command first asks which
 * run when there is more than one. Serving a run the evaluation found worse than its base asks first.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { readEvalReport } from '../../eval/report';
import { verdictLabel, verdictOf } from '../../jobs/runEvaluation';
import { runWeights, type RunSummary, type RunWeights } from '../../jobs/runs';
import { formatLoss } from '../format';
import type { RunNode, RunsTree } from '../trees/runsTree';

/** A run with trained weights to evaluate, export or serve. */
export function hasWeights(r: RunSummary): boolean {
  return (
    (r.status === 'finished' || r.status === 'stopped') &&
    (r.checkpoints.length > 0 || (!!r.record?.finalDir && existsSync(r.record.finalDir)))
  );
}

/** The run a palette command acts on: the argument's, the only candidate, or the user's pick. */
export async function pickRun(
  runs: RunsTree,
  arg: unknown,
  purpose: string,
  fits: (r: RunSummary) => boolean = hasWeights,
): Promise<string | undefined> {
  if (typeof arg === 'string') return arg;
  const node = arg as RunNode | undefined;
  if (node?.run?.runDir) return node.run.runDir;
  const candidates = runs.runs().filter(fits);
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage(`LocalTune: no run to ${purpose} yet.`);
    return undefined;
  }
  if (candidates.length === 1) return candidates[0].runDir;
  const pick = await vscode.window.showQuickPick(
    candidates.map((r) => ({
      label: r.record?.title ?? r.id,
      description: `${r.status} · step ${r.step} · best val ${formatLoss(r.bestEvalLoss)}`,
      detail: r.runDir,
      runDir: r.runDir,
    })),
    { title: `LocalTune: which run to ${purpose}?` },
  );
  return pick?.runDir;
}

export function weightsLabel(w: RunWeights): string {
  if (w.kind === 'step') return `checkpoint at step ${w.step}`;
  const what = w.kind === 'best' ? 'best so far' : 'final';
  return w.step === null ? what : `${what} (step ${w.step})`;
}

/**
 * The weights to use: a checkpoint node's own, the final ones for a run folder given as a string,
 * else the user's pick among final / best / each checkpoint with its validation loss.
 */
export async function pickWeights(
  runDir: string,
  arg: unknown,
  purpose: string,
): Promise<RunWeights | undefined> {
  const choices = runWeights(runDir);
  if (choices.length === 0) {
    void vscode.window.showWarningMessage(
      `LocalTune: ${basename(runDir)} has no adapter or checkpoint to ${purpose} yet.`,
    );
    return undefined;
  }
  const node = arg as RunNode | undefined;
  if (node?.kind === 'checkpoint') return choices.find((c) => c.dir === node.dir) ?? choices[0];
  if (typeof arg === 'string' || choices.length === 1) return choices[0];
  const pick = await vscode.window.showQuickPick(
    choices.map((w, i) => ({
      label: weightsLabel(w),
      description: `validation loss ${formatLoss(w.evalLoss)}${i === 0 ? ' · recommended' : ''}`,
      detail: w.dir,
      w,
    })),
    { title: `LocalTune: which weights to ${purpose}?` },
  );
  return pick?.w;
}

/** True when the weights may be served: not evaluated worse than the base, or the user says so. */
export async function confirmServing(w: RunWeights): Promise<boolean> {
  const report = readEvalReport(w.dir);
  const verdict = report ? verdictOf(report) : null;
  if (verdict !== 'worse') return true;
  const b = report!.base.validationLoss;
  const t = report!.tuned?.validationLoss ?? null;
  const answer = await vscode.window.showWarningMessage(
    `This model is ${verdictLabel(verdict)}.`,
    {
      modal: true,
      detail: `On held-out files its validation loss is ${formatLoss(t)}, the base model's ${formatLoss(b)}: its completions are likely worse than the base model's. Use it anyway?`,
    },
    'Use Anyway',
  );
  return answer === 'Use Anyway';
}
