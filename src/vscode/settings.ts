/** Typed reads of the `localtune.*` settings (declared with descriptions in package.json). */
import * as vscode from 'vscode';
import { chosenColumns, type CsvColumns } from '../data/formats/csv';
import type { SplitMethod } from '../data/split';

export const DEFAULT_MODEL_ID = 'HuggingFaceTB/SmolLM2-135M';

export interface LocalTuneSettings {
  defaultModel: string;
  modelFolders: string[];
  /** How Build Dataset from Workspace holds out files. */
  datasets: { split: SplitMethod };
  training: {
    /** 0: one epoch over the dataset. */
    steps: number;
    /** 0: the preset's default (2e-4 LoRA, 5e-5 full). */
    learningRate: number;
    loraRank: number;
    /** Capped by the model's context. */
    seqLen: number;
    checkpointEvery: number;
    evalEvery: number;
    /** Evaluations without improvement before stopping early; 0 = off. */
    patience: number;
    stopTimeoutSeconds: number;
    /** Evaluate every finished run against its base model and say whether it is better. */
    evaluateAfterRun: boolean;
  };
  completions: { enabled: boolean; debounceMs: number; maxTokens: number; model: string };
}

/** The CSV/TSV columns the settings name (empty ones left out: the usual header names apply). */
export function csvColumnSettings(): CsvColumns {
  const c = vscode.workspace.getConfiguration('localtune.datasets');
  return (
    chosenColumns({
      prompt: c.get<string>('csvPromptColumn'),
      response: c.get<string>('csvResponseColumn'),
      system: c.get<string>('csvSystemColumn'),
    }) ?? {}
  );
}

export function settings(): LocalTuneSettings {
  const c = vscode.workspace.getConfiguration('localtune');
  return {
    defaultModel: c.get<string>('defaultModel') || DEFAULT_MODEL_ID,
    modelFolders: c.get<string[]>('modelFolders') ?? [],
    datasets: { split: c.get<SplitMethod>('datasets.split') ?? 'file' },
    training: {
      steps: c.get<number>('training.steps') ?? 200,
      learningRate: c.get<number>('training.learningRate') ?? 0,
      loraRank: c.get<number>('training.loraRank') ?? 8,
      seqLen: c.get<number>('training.seqLen') ?? 256,
      checkpointEvery: c.get<number>('training.checkpointEvery') ?? 50,
      evalEvery: c.get<number>('training.evalEvery') ?? 25,
      patience: c.get<number>('training.patience') ?? 3,
      stopTimeoutSeconds: c.get<number>('training.stopTimeoutSeconds') ?? 30,
      evaluateAfterRun: c.get<boolean>('training.evaluateAfterRun') ?? true,
    },
    completions: {
      enabled: c.get<boolean>('completions.enabled') ?? false,
      debounceMs: c.get<number>('completions.debounceMs') ?? 150,
      maxTokens: c.get<number>('completions.maxTokens') ?? 48,
      model: c.get<string>('completions.model') ?? '',
    },
  };
}
