/**
 * One line of a `.keyrack` (comment and surrounding blanks already gone), and the
 * rule behind every message about it: "a .keyrack lists names, never values". A line
 * that fails is never echoed beyond its name part, and a line whose right-hand side
 * looks like a value (a pasted `.env`, a credentials file) says so without printing
 * it and tells the user to rotate it.
 */
import { aliasProblem, envNameProblem, KEY_NAME, KEY_NAME_MAX } from './names.js';

export interface LineEntry {
  env: string;
  key: string;
  optional: boolean;
  /** The line ends in the word `exec-only`: the hook never sets it (a manifest can only make a key stricter). */
  execOnly?: true;
}

/** The per-line marker: a last word, after whitespace (`NAME exec-only`, `NAME? = key exec-only`). */
export const EXEC_ONLY_MARK = 'exec-only';
const MARK_AT_END = /\s+exec-only$/;

/** The entry, or why the line is refused (holding no part of the line but its name). */
export type LineResult = { entry: LineEntry } | { reason: string };

/** Characters a key name may hold: anything else on the right of `=` is not a name. */
const KEY_CHARS = /^[A-Za-z0-9_.-]+$/;
/** What a name part must look like to be shown in a message. */
const SHOWABLE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Well-known token formats (GitHub, GitLab, Slack, Stripe, AWS, Google, npm, PyPI, JWT …). */
const TOKEN_PREFIX = /^(?:gh[pousr]_|github_pat_|glpat-|glsa_|xox[abposr]-|xapp-|sk-|sk_live_|sk_test_|rk_live_|rk_test_|pk_live_|pk_test_|whsec_|AKIA|ASIA|AIza|ya29\.|hf_|npm_|pypi-|dop_v1_|shpat_|shpss_|SG\.|eyJ)/;

const cls = (c: string): number => (c >= '0' && c <= '9' ? 0 : 1);

/**
 * Whether a name-shaped string is really a secret: a known token prefix, or a long
 * run of letters and digits mixed the way random strings are (hex, base62) and names
 * are not (`project2024prod` changes between letters and digits twice).
 */
export function secretShaped(s: string): boolean {
  const p = TOKEN_PREFIX.exec(s);
  if (p) {
    const rest = s.slice(p[0].length);
    if (rest.length >= 16 && (/\d/.test(rest) || (/[a-z]/.test(rest) && /[A-Z]/.test(rest)))) return true;
  }
  for (const run of s.match(/[A-Za-z0-9]{16,}/g) ?? []) {
    let changes = 0;
    for (let i = 1; i < run.length; i++) if (cls(run[i]!) !== cls(run[i - 1]!)) changes++;
    if (changes >= 4) return true;
    if (run.length >= 32 && /\d/.test(run) && /[a-z]/.test(run) && /[A-Z]/.test(run)) return true;
  }
  return false;
}

/** Text after a name that cannot be a key name: a value, as far as we are concerned. */
const valueLike = (rhs: string): boolean => !KEY_CHARS.test(rhs) || secretShaped(rhs);

/** The name part as it may appear in a message, or null when it may not (it looks like a value). */
function label(name: string): string | null {
  return name.length <= KEY_NAME_MAX && SHOWABLE.test(name) && !secretShaped(name) ? name : null;
}

const ROTATE = 'a .keyrack lists names, never values: if this is a real secret, rotate it now (it is in this file, and may be in git history)';

function looksLikeValue(name: string | null): { reason: string } {
  return {
    reason: name === null
      ? `cannot read this line: it looks like a value, not a name — ${ROTATE}`
      : `cannot read ${name}: what follows the name looks like a value, not a key name — ${ROTATE}; then list ${name} alone`,
  };
}

const EXPECTED = 'expected NAME, NAME?, or NAME = key';

/** Parses one non-empty line. */
export function parseLine(text: string): LineResult {
  const marked = MARK_AT_END.exec(text);
  const r = parseUnmarked(marked ? text.slice(0, marked.index) : text);
  if ('reason' in r || !marked) return r;
  return { entry: { ...r.entry, execOnly: true } };
}

function parseUnmarked(text: string): { entry: Omit<LineEntry, 'execOnly'> } | { reason: string } {
  let rest = text;
  const exported = /^export\s+/.exec(rest);
  if (exported) rest = rest.slice(exported[0].length);
  const m = /^([^\s=?:]*)(\??)\s*/.exec(rest)!;
  const name = m[1]!;
  const optional = m[2] === '?';
  rest = rest.slice(m[0].length);
  let sep = '';
  if (rest.startsWith('=') || rest.startsWith(':')) {
    sep = rest[0]!;
    rest = rest.slice(1).trim();
  }
  const rhs = rest; // never echoed: it may be a value
  const shown = label(name);

  if (sep === ':' && rhs.startsWith('//')) return looksLikeValue(null); // a URL: https://user:token@host
  if (name !== '' && shown === null) {
    if (name.length > KEY_NAME_MAX && SHOWABLE.test(name) && !secretShaped(name)) return { reason: `variable name is longer than ${KEY_NAME_MAX} characters` };
    return looksLikeValue(null);
  }
  if (exported) {
    if (rhs !== '') return looksLikeValue(shown);
    return { reason: `a .keyrack is not a shell script: write ${shown ?? 'NAME'}, not export ${shown ?? 'NAME'}` };
  }
  if (shown === null) {
    if (rhs !== '' && valueLike(rhs)) return looksLikeValue(null);
    if (sep === '=') return { reason: 'a line must start with a variable name: NAME or NAME = key' };
    return { reason: `cannot read this line: ${EXPECTED}` };
  }
  if (sep === ':') return rhs === '' ? { reason: `cannot read ${shown}: ${EXPECTED} (not "${shown}:")` } : looksLikeValue(shown);
  if (sep === '' && rhs !== '') {
    if (rhs === '?') return { reason: `put "?" right after the variable name: ${shown}?` };
    return valueLike(rhs) ? looksLikeValue(shown) : { reason: `cannot read ${shown}: ${EXPECTED}` };
  }
  if (sep === '=') {
    if (rhs === '') return { reason: '"=" must be followed by a key name: NAME = key' };
    if (rhs.endsWith('?') && label(rhs.slice(0, -1)) !== null) return { reason: 'put "?" after the variable name: NAME? = key' };
    if (valueLike(rhs)) return looksLikeValue(shown);
  }

  const env = name;
  const envProblem = envNameProblem(env);
  if (envProblem) return { reason: envProblem };
  const key = sep === '=' ? rhs : env;
  if (key.length > KEY_NAME_MAX) return { reason: `key name is longer than ${KEY_NAME_MAX} characters` };
  if (!KEY_NAME.test(key)) return { reason: `the key name after "=" must start with a letter or "_" (${KEY_NAME.source})` };
  const alias = aliasProblem(env, key);
  if (alias) return { reason: alias };
  return { entry: { env, key, optional } };
}
