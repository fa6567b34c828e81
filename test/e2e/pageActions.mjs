// What the e2e executable's control endpoint does to the page for a test, as a user would: fill a
// field and click an element, in the workbench or in any webview frame (webviews are nested
// iframes). Playwright's CSS locators pierce open shadow roots, so `#f-steps input` reaches the
// input inside a vscode-elements text field.

/** The first element matching `selector`, searched frame by frame in document order. */
async function locate(page, selector) {
  if (!selector) throw new Error('a selector is needed (?selector=CSS)');
  for (const frame of page.frames()) {
    const found = frame.locator(selector).first();
    // A frame that went away meanwhile counts as holding nothing.
    if ((await found.count().catch(() => 0)) > 0) return found;
  }
  throw new Error(`no element matches ${selector} in the workbench or its webviews`);
}

/** Types `value` into the field (replacing what it held), as the keyboard would. */
export async function fillIn(page, selector, value) {
  await (await locate(page, selector)).fill(value, { timeout: 15_000 });
}

/** Clicks the element (scrolled into view, visible and enabled first), as the mouse would. */
export async function clickOn(page, selector) {
  await (await locate(page, selector)).click({ timeout: 15_000 });
}
