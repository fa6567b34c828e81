// Every command LocalTune contributes (package.json contributes.commands) is run at least once in
// the real editor: some e2e suite executes it (vscode.commands.executeCommand('localtune.…') in
// test/e2e/suite/). A new command without an e2e run fails here, naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** The command ids the suite files (and their helpers) pass to executeCommand. */
export function executedCommands(dir = join(__dirname, 'suite')): Set<string> {
  const ids = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const source = readFileSync(join(dir, file), 'utf8');
    // executeCommand<Type>(  'id'  — the type argument never holds a parenthesis in these suites.
    for (const m of source.matchAll(/executeCommand\s*(?:<[^(]*?>)?\(\s*'(localtune\.[\w.]+)'/g))
      ids.add(m[1]);
  }
  return ids;
}

test('every contributed command is executed by an e2e suite', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    contributes: { commands: { command: string }[] };
  };
  const contributed = pkg.contributes.commands.map((c) => c.command);
  assert.ok(contributed.length >= 30, `${contributed.length} contributed commands`);
  const run = executedCommands();
  const never = contributed.filter((c) => !run.has(c));
  assert.deepEqual(never, [], `contributed commands no e2e suite runs: ${never.join(', ')}`);
});

test('executeCommand calls are found with and without a type argument, across lines', () => {
  const dir = join(root, 'test', 'e2e', 'suite');
  const found = executedCommands(dir);
  // Spelled three ways in the suites: plain, with a type argument, and split over lines.
  for (const id of ['localtune.showDashboard', 'localtune.buildDataset', 'localtune.exportModel'])
    assert.ok(found.has(id), id);
  assert.ok(![...found].some((id) => id.endsWith('.')), 'whole ids');
});
