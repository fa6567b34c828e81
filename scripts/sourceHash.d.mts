// Types for sourceHash.mjs, for the TypeScript tests that key their caches by it.
export function sourceHash(root: string, paths: string[], recipe?: string): string;
