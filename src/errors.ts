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

export function exitCodeOf(err: unknown): number {
  if (err instanceof UserError) return 2;
  return 1;
}

/** The message of an unknown thrown thing, for the one stderr line we print. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
