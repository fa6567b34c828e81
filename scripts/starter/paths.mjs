// Where the starter model's corpus, dataset and pretraining run live: outside the work tree (they
// are large and the run takes hours over several sessions), `--dir DIR` or LOCALTUNE_STARTER_DIR.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export function starterDir(argv) {
  const i = argv.indexOf('--dir');
  if (i !== -1 && argv[i + 1]) return resolve(argv[i + 1]);
  return process.env.LOCALTUNE_STARTER_DIR ?? join(homedir(), '.cache', 'localtune', 'starter');
}
