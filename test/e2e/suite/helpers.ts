/// <reference types="mocha" />
// Screenshots of the whole workbench and its DOM read back, from inside the extension host: asks the
// e2e executable (test/e2e/code-server-exe.mjs) over its control endpoint. The PNG lands in
// test-artifacts/screenshots/<name>.png. Where no endpoint exists (a downloaded desktop VS Code),
// screenshot logs and returns undefined, and the DOM reads throw (the tests need what they read).

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

/** The rendered text of every element matching a CSS selector: workbench and webview frames alike. */
export async function domTexts(selector: string): Promise<string[]> {
  const base = process.env.LOCALTUNE_E2E_CONTROL_URL;
  if (!base) throw new Error(`reading the DOM (${selector}) needs the e2e executable's control endpoint`);
  const res = await fetch(`${base}/dom?selector=${encodeURIComponent(selector)}`);
  if (!res.ok) throw new Error(`reading the DOM (${selector}) failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { texts: string[] }).texts;
}

/** Presses a key in the workbench as a user would (Playwright key names: Enter, Escape, ArrowDown). */
export async function pressKey(key: string): Promise<void> {
  const base = process.env.LOCALTUNE_E2E_CONTROL_URL;
  if (!base) throw new Error(`pressing ${key} needs the e2e executable's control endpoint`);
  const res = await fetch(`${base}/press?key=${encodeURIComponent(key)}`);
  if (!res.ok) throw new Error(`pressing ${key} failed: ${res.status} ${await res.text()}`);
}

/** Waits until an element matching `selector` shows text that `match` accepts; returns that text. */
export async function waitForText(
  what: string,
  selector: string,
  match: (text: string) => boolean,
  timeoutMs = 30_000,
): Promise<string> {
  let seen: string[] = [];
  const found = await waitFor(
    what,
    async () => {
      seen = await domTexts(selector);
      return seen.find(match);
    },
    timeoutMs,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; ${selector} showed ${JSON.stringify(seen).slice(0, 1500)}`);
  });
  return found!;
}
