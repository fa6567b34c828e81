/// <reference types="mocha" />
// Screenshots of the whole workbench from inside the extension host: asks the e2e executable
// (test/e2e/code-server-exe.mjs) over its control endpoint to take a Playwright screenshot.
// The PNG lands in test-artifacts/screenshots/<name>.png. Where no endpoint exists (a downloaded
// desktop VS Code), it logs and returns undefined.

/** Takes a screenshot named `name` (letters, digits, . _ -); returns the PNG's path. */
export async function screenshot(name: string): Promise<string | undefined> {
  const base = process.env.LOCALTUNE_E2E_CONTROL_URL;
  if (!base) {
    console.log(`[e2e] screenshot ${name}: skipped (no control endpoint in this VS Code)`);
    return undefined;
  }
  const res = await fetch(`${base}/screenshot?name=${encodeURIComponent(name)}`);
  if (!res.ok) throw new Error(`screenshot ${name} failed: ${res.status} ${await res.text()}`);
  const { path } = (await res.json()) as { path: string };
  return path;
}

/** Waits until `check` returns a truthy value (polling), or throws after timeoutMs with `what`. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
