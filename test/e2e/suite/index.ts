// The in-host side of the e2e tests: VS Code (or code-server) loads this bundle as
// --extensionTestsPath and calls run() inside the extension host. It runs every suite bundled from
// test/e2e/suite/**/*.e2e.ts with mocha (BDD: describe/it/before/after) and reports each test as a
// line `[e2e-result] {json}` on the console, which test/e2e/vscode.test.ts turns into node:test subtests.
//
// LOCALTUNE_E2E_GREP (a substring or /regex/) picks tests by full title.
import Mocha from 'mocha';
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { LineReporter } from './reporter';

function findSuites(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found.push(...findSuites(path));
    else if (entry.endsWith('.e2e.js')) found.push(path);
  }
  return found;
}

export async function run(): Promise<void> {
  const grep = process.env.LOCALTUNE_E2E_GREP;
  const mocha = new Mocha({
    ui: 'bdd',
    timeout: Number(process.env.LOCALTUNE_E2E_TEST_TIMEOUT_MS ?? 180_000),
    reporter: LineReporter,
    color: false,
  });
  if (grep) mocha.grep(grep.startsWith('/') && grep.endsWith('/') ? new RegExp(grep.slice(1, -1)) : grep);

  // Load each suite bundle the way mocha's loadFiles does: expose describe/it, then require it.
  const load = createRequire(__filename);
  const files = findSuites(__dirname);
  for (const file of files) {
    mocha.suite.emit('pre-require', globalThis, file, mocha);
    mocha.suite.emit('require', load(file), file, mocha);
    mocha.suite.emit('post-require', globalThis, file, mocha);
  }
  console.log(
    `[e2e] ${files.length} suite file(s): ${files.map((f) => f.slice(__dirname.length + 1)).join(', ')}`,
  );

  await new Promise<void>((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} e2e test(s) failed`)) : resolve()));
  });
}
