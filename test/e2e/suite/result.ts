// The line format between the in-host reporter (suite/reporter.ts) and npm test (vscode.test.ts).

/** One finished test, printed as `[e2e-result] {json}`. */
export interface ResultLine {
  state: 'passed' | 'failed' | 'pending';
  /** Titles from the outermost describe to the test. */
  titlePath: string[];
  durationMs?: number;
  error?: string;
}
export const RESULT_MARKER = '[e2e-result] ';
