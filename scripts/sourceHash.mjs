// A short hash of the files that make a cached artefact (the e2e fixtures in .cache/), so the cache
// is rebuilt whenever the code that produced it changes, not only when its name is bumped by hand.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

function listFiles(root, path) {
  const full = join(root, path);
  if (!existsSync(full)) throw new Error(`sourceHash: ${full} does not exist`);
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full)
    .sort()
    .flatMap((entry) => listFiles(root, join(path, entry)));
}

/**
 * sha256 (first 16 hex digits) over each file under `paths` (files or folders, relative to `root`):
 * its path and bytes, in sorted order, then `recipe` (the parameters the artefact was made with).
 */
export function sourceHash(root, paths, recipe = '') {
  const hash = createHash('sha256');
  for (const file of paths.flatMap((p) => listFiles(root, p)).sort()) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(join(root, file)));
    hash.update('\0');
  }
  hash.update(recipe);
  return hash.digest('hex').slice(0, 16);
}
