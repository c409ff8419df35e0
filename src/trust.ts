/**
 * Trust, as direnv does it: a manifest is used only after `keyrack allow`, and what
 * is trusted is its real path plus its content, so editing or moving it withdraws
 * the trust. `deny` blocks a path until it is allowed again.
 */
import type { Env } from './paths.js';

export type Trust = 'allowed' | 'denied' | 'untrusted';

export function trustOf(_m: { path: string; content: string }, _env: Env = process.env): Trust {
  throw new Error('todo');
}

export function allow(_m: { path: string; content: string }, _env: Env = process.env): void {
  throw new Error('todo');
}

export function deny(_path: string, _env: Env = process.env): void {
  throw new Error('todo');
}
