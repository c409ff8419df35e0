/** The two kinds of names keyrack accepts, and why some are refused. */
import { UserError } from './errors.js';

/** Key names in the host registry (DESIGN.md §1, issue 2). */
export const KEY_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
export const KEY_NAME_MAX = 128;

/** Throws the user-facing error for a bad key name (exit 2). */
export function assertKeyName(name: string): void {
  const p = keyNameProblem(name);
  if (p) throw new UserError(p);
}

/** Environment variable names a manifest may set (DESIGN.md §2). */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Why a key name is invalid, or null when it is fine. */
export function keyNameProblem(name: string): string | null {
  if (name.length === 0) return 'key name is empty';
  if (name.length > KEY_NAME_MAX) return `key name is longer than ${KEY_NAME_MAX} characters`;
  if (!KEY_NAME.test(name)) return `key name ${JSON.stringify(name)} must match ${KEY_NAME.source}`;
  return null;
}

/**
 * Variables that change how programs, loaders or shells behave: a manifest that set
 * them could run code in the user's shell, so they are refused outright.
 */
export const HARD_NAMES: ReadonlySet<string> = new Set([
  'PATH', 'HOME', 'SHELL', 'USER', 'LOGNAME', 'IFS', 'ENV', 'BASH_ENV', 'CDPATH', 'GLOBIGNORE',
  'PROMPT_COMMAND', 'PS0', 'PS1', 'PS2', 'PS3', 'PS4', 'SHELLOPTS', 'BASHOPTS', 'HISTFILE',
  'FPATH', 'ZDOTDIR', 'ZSH', 'MAILPATH', 'TERM', 'TERMINFO', 'TMPDIR', 'PWD', 'OLDPWD',
  'NODE_OPTIONS', 'NODE_PATH', 'NODE_EXTRA_CA_CERTS', 'PYTHONPATH', 'PYTHONSTARTUP', 'PYTHONHOME',
  'PERL5LIB', 'PERL5OPT', 'RUBYLIB', 'RUBYOPT', 'GIT_SSH', 'GIT_SSH_COMMAND', 'GIT_EXEC_PATH',
  'EDITOR', 'VISUAL', 'PAGER', 'BROWSER', 'SSH_AUTH_SOCK', 'GNUPGHOME',
  'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_STATE_HOME', 'XDG_RUNTIME_DIR', 'XDG_CACHE_HOME',
  'BASH_XTRACEFD', 'BASH_COMPAT', 'BASH_LOADABLES_PATH', 'EXECIGNORE', 'HISTCONTROL', 'HISTTIMEFORMAT',
  'INPUTRC', 'TMOUT', 'MAIL', 'SHLVL', 'UID', 'EUID', 'PPID', 'RANDOM', 'SECONDS', 'LINENO', 'OPTIND',
  // zsh parameters tied to the environment or the prompt
  'path', 'fpath', 'cdpath', 'manpath', 'module_path', 'mailpath', 'prompt', 'PROMPT', 'PROMPT2',
  'PROMPT3', 'PROMPT4', 'RPROMPT', 'RPROMPT2', 'RPS1', 'RPS2', 'histchars', 'precmd_functions',
  'chpwd_functions', 'preexec_functions', 'ZLE_RPROMPT_INDENT',
  // fish read-only or special variables
  'status', 'pipestatus', 'version', 'hostname', 'history', 'argv', 'umask', 'PWD', 'CMD_DURATION',
]);
export const HARD_PREFIXES: readonly string[] = ['LD_', 'DYLD_', 'KEYRACK_', 'BASH_FUNC_', 'DIRENV_', 'fish_', '__fish', '__keyrack'];

/** Why an env var name may not be set by a manifest, or null when it may. */
export function envNameProblem(name: string): string | null {
  if (!ENV_NAME.test(name)) return `${JSON.stringify(name)} is not a valid variable name (${ENV_NAME.source})`;
  if (HARD_NAMES.has(name)) return `${name} changes how programs or shells run; keyrack will not set it`;
  for (const p of HARD_PREFIXES) {
    if (name.startsWith(p)) return `${name} changes how programs or shells run (${p}*); keyrack will not set it`;
  }
  return null;
}
