// The pretraining history shipped beside the starter's weights (models/starter/pretraining.json):
// each stage's figures appended in the plan's step numbers, so the card and its plot cover the
// whole run across sessions.
import { PLAN, type PretrainingHistory, type Stage } from './stage';

export interface StageFigures {
  toStep: number;
  tokens: number;
  seconds: number;
  evals: { step: number; loss: number }[];
  trainLoss: { step: number; loss: number }[];
}

/** `prior` with `stage` (re)placed at its end: packaging one stage twice replaces it, never doubles it. */
export function appendStage(
  prior: PretrainingHistory | undefined,
  stage: Stage,
  f: StageFigures,
): PretrainingHistory {
  const before = <T extends { step: number }>(xs: T[] = []) => xs.filter((x) => x.step <= stage.fromStep);
  const stages = (prior?.stages ?? []).filter((s) => s.toStep <= stage.fromStep);
  stages.push({
    fromStep: stage.fromStep,
    toStep: f.toStep,
    init: stage.init,
    tokens: f.tokens,
    seconds: f.seconds,
  });
  return {
    plan: prior?.plan ?? PLAN,
    step: f.toStep,
    tokens: stages.reduce((a, s) => a + s.tokens, 0),
    seconds: stages.reduce((a, s) => a + s.seconds, 0),
    stages,
    evals: [...before(prior?.evals), ...f.evals],
    trainLoss: [...before(prior?.trainLoss), ...f.trainLoss],
  };
}
