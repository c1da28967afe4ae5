// What the process exits with, and the errors a user can act on.

/** 0 done, 1 anything else, 2 invalid argument, 3 not found, 4 failed precondition, 5 unreachable. */
export const EXIT = { ok: 0, other: 1, invalid: 2, notFound: 3, precondition: 4, unreachable: 5 };

/** An error the user can act on: its message is printed as it is, and the process exits with `code`. */
export class CliError extends Error {
  /** @param {string} message @param {number} [code] */
  constructor(message, code = EXIT.other) {
    super(message);
    this.code = code;
  }
}

/** A usage error (exit 2). */
export const usage = (message) => new CliError(message, EXIT.invalid);

/** What the process exits with when the command itself succeeds (status sets it when a service is down). */
export const outcome = { exitCode: EXIT.ok };
