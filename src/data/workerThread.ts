/**
 * Starting one of our worker threads from wherever the calling code runs: from source (tests,
 * tsx) the TypeScript module beside the caller, with tsx's loader registered first; bundled, the
 * bundle `dist/worker/<name>.js` (the caller is dist/*.js, or dist/worker/*.js itself).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * A worker on `source` (relative to `callerFile`'s folder, when running from source) or on the
 * bundle `bundle` (a file name in dist/worker/); null when neither can be found.
 */
export function startWorkerThread(callerFile: string, source: string, bundle: string): Worker | null {
  const here = dirname(callerFile);
  if (callerFile.endsWith('.ts')) {
    let tsx: string;
    try {
      tsx = require.resolve('tsx/cjs');
    } catch {
      return null;
    }
    const path = join(here, source);
    return new Worker(`require(${JSON.stringify(tsx)});require(${JSON.stringify(path)});`, { eval: true });
  }
  for (const path of [join(here, 'worker', bundle), join(here, bundle)])
    if (existsSync(path)) return new Worker(path);
  return null;
}
