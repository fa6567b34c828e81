// The e2e tests a run must report, recorded in test/e2e/expected-tests.json: a suite that stops
// registering its tests (a broken describe, a condition that never holds, a file left out of the
// bundle) fails the run instead of disappearing. The record is checked twice: against the titles
// written in the suite files (expectedTests.test.ts, no editor needed) and against what ran
// (vscode.test.ts); with LOCALTUNE_E2E_GREP only the matching titles are expected, as mocha picks them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const EXPECTED_FILE = join(__dirname, 'expected-tests.json');
export const SUITE_DIR = join(__dirname, 'suite');

/** Each expected test as its title path: [describe, it]. */
export function readExpected(file = EXPECTED_FILE): string[][] {
  return (JSON.parse(readFileSync(file, 'utf8')) as { tests: string[][] }).tests;
}

/** Whether mocha's grep (a substring, or /regex/) picks a test: it matches the full title. */
export function pickedBy(grep: string | undefined, titlePath: string[]): boolean {
  if (!grep) return true;
  const full = titlePath.join(' ');
  return grep.startsWith('/') && grep.endsWith('/')
    ? new RegExp(grep.slice(1, -1)).test(full)
    : full.includes(grep);
}

const name = (p: string[]) => p.join(' › ');
/** A failing hook reports under its own title; it is a failure already, not an unknown test. */
const isHook = (p: string[]) => /^"(before|after) (all|each)" hook/.test(p.at(-1) ?? '');

/** Expected tests that did not report, and reported tests that are not in the record. */
export function compareWithExpected(
  expected: string[][],
  ran: string[][],
  grep?: string,
): { missing: string[]; unexpected: string[] } {
  const want = new Set(expected.filter((p) => pickedBy(grep, p)).map(name));
  const got = new Set(ran.filter((p) => !isHook(p)).map(name));
  return {
    missing: [...want].filter((n) => !got.has(n)),
    unexpected: [...got].filter((n) => !want.has(n)),
  };
}

/** The describe/it titles written in the suite files (one level of describe, as the suites have). */
export function titlesInSources(dir = SUITE_DIR): string[][] {
  const titles: string[][] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.e2e.ts'))
    .sort()) {
    let suite = '';
    const source = readFileSync(join(dir, file), 'utf8');
    for (const m of source.matchAll(/(?<![\w.$])(describe|it)\(\s*'((?:[^'\\]|\\.)*)'/g)) {
      const title = m[2].replace(/\\(.)/g, '$1');
      if (m[1] === 'describe') suite = title;
      else titles.push([suite, title]);
    }
  }
  return titles;
}
