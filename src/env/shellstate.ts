/**
 * KEYRACK_STATE: what keyrack set in this shell, as names and fingerprints only
 * (never a value), which fingerprint key made them, and tags of the notices shown
 * so a hint is said once.
 *   "1 @9c01a2b3 GITHUB_TOKEN:0123456789abcdef NPM_TOKEN:fedcba9876543210:p !3f2a,9c01"
 * `:p` marks a variable the shell had before keyrack replaced it (its old value is
 * kept in the shell, unexported). Empty means keyrack owns nothing here. Tokens an
 * older keyrack does not know are skipped by it, so the format stays version 1.
 */
import { ENV_NAME } from './names.js';

export interface Owned {
  fp: string;
  /** The shell had an exported value before keyrack set this one. */
  prev: boolean;
}

export interface ShellState {
  owned: Map<string, Owned>;
  /** Tags of the notices printed last (untrusted, locked…), one per notice; [] when none. */
  notices: string[];
  /** The id of the fingerprint key that made the fingerprints (fingerprint.ts keyId); '' when not said. */
  keyId: string;
  /**
   * Names of variables keyrack set that the state holds without a readable
   * fingerprint (a token edited by hand): still keyrack's to remove.
   */
  unverified: string[];
  /** Tokens that name nothing readable at all; > 0 means keyrack may have lost track of something. */
  unreadable: number;
}

const FP = /^[0-9a-f]{16}$/;
const TAG = /^[0-9a-f]{1,16}$/;
const KEY_ID = /^[0-9a-f]{8}$/;

/** Never throws, so the prompt never breaks; what it could not read is counted, not dropped silently. */
export function parseState(s: string | undefined): ShellState {
  const st: ShellState = { owned: new Map(), notices: [], keyId: '', unverified: [], unreadable: 0 };
  const tokens = (s ?? '').split(' ').filter(Boolean);
  if (tokens.length === 0) return st;
  if (tokens[0] !== '1') {
    st.unreadable = tokens.length;
    return st;
  }
  for (const t of tokens.slice(1)) {
    if (t.startsWith('!')) {
      const tags = t.slice(1).split(',');
      if (tags.every((x) => TAG.test(x))) st.notices = tags;
      continue;
    }
    if (t.startsWith('@')) {
      if (KEY_ID.test(t.slice(1))) st.keyId = t.slice(1);
      else st.unreadable++;
      continue;
    }
    const [name = '', fp = '', flag] = t.split(':');
    if (!ENV_NAME.test(name)) st.unreadable++;
    else if (FP.test(fp)) st.owned.set(name, { fp, prev: flag === 'p' });
    else st.unverified.push(name);
  }
  return st;
}

/** Sorted, so the same state is always the same string (the hook compares it). */
export function formatState(st: Pick<ShellState, 'owned' | 'notices' | 'keyId'>): string {
  if (st.owned.size === 0 && st.notices.length === 0) return '';
  const parts = ['1'];
  if (st.owned.size > 0 && st.keyId) parts.push(`@${st.keyId}`);
  for (const [name, o] of [...st.owned].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    parts.push(o.prev ? `${name}:${o.fp}:p` : `${name}:${o.fp}`);
  }
  if (st.notices.length > 0) parts.push(`!${st.notices.join(',')}`);
  return parts.join(' ');
}
