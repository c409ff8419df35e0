/**
 * Exit codes are part of the contract (README, Commands): 2 means the user must act
 * (locked, absent, untrusted, bad input), 1 means keyrack itself failed.
 * Messages never contain a secret value: build them from names and paths only.
 */
export class UserError extends Error {
  readonly exitCode = 2;
}

export class KeyrackError extends Error {
  readonly exitCode = 1;
}

/** Ctrl-C (or Ctrl-D on an empty line) at a prompt: the user stopped; exit 130, as a shell reports SIGINT. */
export class Cancelled extends Error {
  readonly exitCode = 130;
  constructor() {
    super('cancelled');
  }
}

export function exitCodeOf(err: unknown): number {
  if (err instanceof Cancelled) return 130;
  if (err instanceof UserError) return 2;
  return 1;
}

/** The message of an unknown thrown thing, for the one stderr line we print. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
