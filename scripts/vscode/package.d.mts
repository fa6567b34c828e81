// Types for package.mjs (VSIX packaging), for the TypeScript tests that run it.
export function packageVsix(options?: { target?: string; out?: string; force?: boolean }): string;
