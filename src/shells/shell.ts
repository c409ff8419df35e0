/**
 * One interface for every shell keyrack speaks to: how to quote a value and the
 * handful of statements `export` prints. The diff logic lives in env/diff.ts
 * and knows nothing about any shell's syntax.
 *
 * Every statement must work when eval'd inside the hook function: values and the
 * state are exported globals, the saved previous values are unexported globals.
 */

/** What `export` wants the shell to do, in this order. */
export interface Changes {
  /** Keys keyrack takes over: save the shell's current value (if any) first. */
  save: string[];
  /** Variables to export with these values. */
  set: Array<[name: string, value: string]>;
  /** Variables keyrack drops: restore the saved value when there is one, else unset. */
  unset: string[];
  /** Variables keyrack stops tracking without touching them: drop the saved copy only. */
  forget: string[];
  /** The new KEYRACK_STATE (names and fingerprints, never a value). */
  state: string;
  /** Whether `state` differs from the shell's current KEYRACK_STATE. */
  stateChanged: boolean;
}

export interface Shell {
  readonly name: 'bash' | 'zsh' | 'fish' | 'tcsh' | 'elvish' | 'json';
  /** A literal that evaluates to exactly `s` (any string without NUL). */
  quote(s: string): string;
  /** The whole program for these changes (empty when there is nothing to do). */
  render(c: Changes): string;
}

/** What `keyrack hook NAME` prints: a file from shell/ with its paths filled in. */
export interface HookFile {
  /** The file in shell/ holding the hook text. */
  readonly hookFile: string;
  /** Quotes a path for the hook's language. */
  quote(s: string): string;
  /**
   * What stands in for keyrack-fast when it was not built (default `command`, which
   * runs node without a function lookup); tcsh and elvish run a quoted path as it is.
   */
  readonly noFast?: string;
  /** The text to print instead of the filled-in file (tcsh: a line that sources it). */
  install?(file: string, p: HookPaths): string;
}

/** A shell with a prompt hook, built from a few statements. */
export interface HookShell extends Shell, HookFile {}

export interface HookPaths {
  /** The node binary. */
  node: string;
  /** keyrack's entry script (dist/keyrack.mjs). */
  script: string;
  /** The generation file (paths.generationPath). */
  gen: string;
  /**
   * native/build/Release/keyrack-fast, which asks the daemon for the export and
   * falls back to `node script` itself; undefined when it was not built.
   */
  fast?: string;
}

/**
 * The unexported variable where a shell keeps a value keyrack replaced
 * (`__keyrack*` is on the manifest's deny-list, env/names.ts, so no manifest sets it).
 */
export const prevVar = (name: string): string => `__keyrack_prev_${name}`;

/** The statements one shell needs; `renderWith` puts them in order. */
export interface Statements {
  save(name: string): string;
  set(name: string, value: string): string;
  unset(name: string): string;
  forget(name: string): string;
  state(value: string): string;
}

export function renderWith(st: Statements, c: Changes): string {
  const out: string[] = [];
  for (const n of c.save) out.push(st.save(n));
  for (const [n, v] of c.set) out.push(st.set(n, v));
  for (const n of c.unset) out.push(st.unset(n));
  for (const n of c.forget) out.push(st.forget(n));
  if (c.stateChanged) out.push(st.state(c.state));
  return out.length ? out.join('\n') + '\n' : '';
}

/**
 * Replaces each placeholder `'@NAME@'` (quotes included, so the hook file is valid
 * shell as it stands and shellcheck can lint it) with a quoted literal.
 */
export function fillPlaceholders(text: string, quote: (s: string) => string, p: HookPaths, noFast = 'command'): string {
  return text
    // Without the fast client node runs directly.
    .replaceAll("'@KEYRACK_FAST@'", () => (p.fast ? quote(p.fast) : noFast))
    .replaceAll("'@KEYRACK_NODE@'", () => quote(p.node))
    .replaceAll("'@KEYRACK_SCRIPT@'", () => quote(p.script))
    .replaceAll("'@KEYRACK_GEN@'", () => quote(p.gen));
}
