/** Why a file (or a folder, counted once) was left out of a dataset. Counted per reason in the manifest. */
export type SkipReason =
  | 'gitignored'
  | 'localtuneignored'
  | 'excluded'
  | 'not-included'
  | 'vendored'
  | 'too-large'
  | 'binary'
  | 'invalid-utf8'
  | 'lockfile'
  /** A key or credential file by its name (.env*, *.pem, id_rsa, .npmrc…): never code. */
  | 'credential-file'
  | 'minified'
  | 'long-lines'
  | 'generated'
  | 'empty'
  | 'symlink-loop'
  | 'symlink-outside'
  | 'unreadable'
  | 'malformed-record'
  | 'exact-duplicate'
  | 'near-duplicate';

export type SkipCounts = Partial<Record<SkipReason, number>>;

export function countSkip(counts: SkipCounts, reason: SkipReason, n = 1): void {
  counts[reason] = (counts[reason] ?? 0) + n;
}
