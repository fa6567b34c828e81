// A mocha reporter for the extension host: everything goes through console.log (which VS Code
// forwards from the extension host to the window, and the e2e executable forwards to stdout).
// Each finished test gives a human line and a machine line `[e2e-result] {json}` (see ResultLine).
import Mocha from 'mocha';
import { RESULT_MARKER, type ResultLine } from './result';

const { EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING, EVENT_RUN_END, EVENT_SUITE_BEGIN } =
  Mocha.Runner.constants;

export class LineReporter extends Mocha.reporters.Base {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    const emit = (line: ResultLine) => console.log(RESULT_MARKER + JSON.stringify(line));
    runner.on(EVENT_SUITE_BEGIN, (suite) => {
      if (suite.title) console.log(`[e2e] ${suite.titlePath().join(' › ')}`);
    });
    runner.on(EVENT_TEST_PASS, (test) => {
      console.log(`[e2e]   ✔ ${test.title} (${test.duration ?? 0} ms)`);
      emit({ state: 'passed', titlePath: test.titlePath(), durationMs: test.duration });
    });
    runner.on(EVENT_TEST_PENDING, (test) => {
      console.log(`[e2e]   - ${test.title} (pending)`);
      emit({ state: 'pending', titlePath: test.titlePath() });
    });
    runner.on(EVENT_TEST_FAIL, (test, err: Error) => {
      const error = err?.stack ?? String(err);
      console.log(`[e2e]   ✘ ${test.title}\n${error}`);
      // A failing hook ("before all" hook ...) arrives here too; its titlePath names it.
      emit({ state: 'failed', titlePath: test.titlePath(), durationMs: test.duration, error });
    });
    runner.once(EVENT_RUN_END, () => {
      const s = this.stats;
      console.log(
        `[e2e] ${s.passes} passing, ${s.failures} failing, ${s.pending} pending (${s.duration ?? 0} ms)`,
      );
    });
  }
}
