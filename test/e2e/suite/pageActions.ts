/// <reference types="mocha" />
// Filling fields and clicking in the workbench and its webviews from inside the extension host, as
// a user would: asks the e2e executable (test/e2e/code-server-exe.mjs, test/e2e/pageActions.mjs)
// over its control endpoint. Without one (a downloaded desktop VS Code) they throw: the tests that
// use them need the page driven.

async function act(action: 'fill' | 'click', params: Record<string, string>): Promise<void> {
  const base = process.env.LOCALTUNE_E2E_CONTROL_URL;
  if (!base) throw new Error(`${action} ${params.selector} needs the e2e executable's control endpoint`);
  const res = await fetch(`${base}/${action}?${new URLSearchParams(params).toString()}`);
  if (!res.ok) throw new Error(`${action} ${params.selector} failed: ${res.status} ${await res.text()}`);
}

/** Types `value` into the field matching `selector` (in the workbench or a webview frame). */
export function fillIn(selector: string, value: string): Promise<void> {
  return act('fill', { selector, value });
}

/** Clicks the element matching `selector` (in the workbench or a webview frame). */
export function clickOn(selector: string): Promise<void> {
  return act('click', { selector });
}
