/**
 * KEYRACK_STATE: what keyrack set in this shell, as names and fingerprints only
 * (never a value), plus a tag of the last notice shown so a hint is said once.
 *   "1 GITHUB_TOKEN:0123456789abcdef NPM_TOKEN:fedcba9876543210:p !3f2a9c01"
 * `:p` marks a variable the shell had before keyrack replaced it (its old value is
 * kept in the shell, unexported). Empty means keyrack owns nothing here.
 */
import { ENV_NAME } from './names.js';

export interface Owned {
  fp: string;
  /** The shell had an exported value before keyrack set this one. */
  prev: boolean;
}

export interface ShellState {
  owned: Map<string, Owned>;
  /** Tag of the last notice printed (untrusted, locked…), or '' when none. */
  notice: string;
}

const FP = /^[0-9a-f]{16}$/;
const TAG = /^[0-9a-f]{1,64}$/;

/** Lenient: an unreadable token is skipped rather than failing the prompt. */
export function parseState(s: string | undefined): ShellState {
  const st: ShellState = { owned: new Map(), notice: '' };
  const tokens = (s ?? '').split(' ').filter(Boolean);
  if (tokens[0] !== '1') return st;
  for (const t of tokens.slice(1)) {
    if (t.startsWith('!')) {
      if (TAG.test(t.slice(1))) st.notice = t.slice(1);
      continue;
    }
    const [name = '', fp = '', flag] = t.split(':');
    if (ENV_NAME.test(name) && FP.test(fp)) st.owned.set(name, { fp, prev: flag === 'p' });
  }
  return st;
}

export function formatState(st: ShellState): string {
  if (st.owned.size === 0 && !st.notice) return '';
  const parts = ['1'];
  for (const [name, o] of [...st.owned].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    parts.push(o.prev ? `${name}:${o.fp}:p` : `${name}:${o.fp}`);
  }
  if (st.notice) parts.push(`!${st.notice}`);
  return parts.join(' ');
}
