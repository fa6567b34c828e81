// Types for workspace.mjs (the demo workspace), for the TypeScript tests that write it.
export const TINY_MODEL_SHAPE: { nLayer: number; nHead: number; nEmbd: number; nPositions: number };
export const FIM_TOKENS: string[];
export const DEMO_HELD_OUT: string;
export function ensureTinyModel(dir: string): string;
export function writeDemoWorkspace(
  dir: string,
  options?: { modelDir?: string; randomWeights?: boolean; settings?: Record<string, unknown> },
): string;
