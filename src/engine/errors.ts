/**
 * An expected failure caused by the user's input (a bad file, a wrong flag).
 * The CLI prints `message` on one line and exits with code 2; the extension shows it as is.
 * The message says what went wrong, where, and what to do.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
}

export function isUserError(err: unknown): err is UserError {
  return err instanceof UserError;
}

/**
 * A bad option value. The message names options as the engine spells them (`seqLen`, listed in
 * `options`); each front end shows them its own way: the CLI as flags (`--seq-len`), the
 * extension as settings.
 */
export class OptionError extends UserError {
  constructor(
    readonly options: string[],
    message: string,
  ) {
    super(message);
  }
}
