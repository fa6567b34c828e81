/** Where the starter model's corpus, dataset and pretraining run live (paths.mjs). */
export function starterDir(argv: string[]): string;
