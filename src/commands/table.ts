/**
 * Every command, its arguments and options, as data: the one table that the
 * argument parser (src/cli-args.ts), `keyrack help` and the completion scripts
 * are all made from, so none of them can miss a command or an option. A command
 * added elsewhere is one row here and one runner in src/cli.ts. Lists of valid
 * values (vaults, shells) come from where those are defined, so they never go stale.
 */
import { VAULTS } from '../registry.js';
import { EXPORT_TARGETS } from '../env/render.js';
import { HOOK_SHELLS } from '../shells/index.js';
import { TEAM_ACTIONS } from './team.js';

/** What a word is, for the help text and for completion (which offers the matching names). */
export type ValueKind =
  | 'key' | 'vault' | 'hook-shell' | 'export-shell' | 'completion-shell' | 'daemon-action' | 'team-action' | 'command'
  | 'file' | 'dir' | 'duration' | 'text';

export interface OptionSpec {
  /** `--vault` */
  flag: string;
  /** A value it takes (`--vault V`); none for a switch. */
  value?: { name: string; kind: ValueKind };
  summary: string;
  /** May be given more than once (`--key A --key B`). */
  repeat?: boolean;
}

export interface ArgSpec {
  /** As help shows it: `KEY`, `DIR`. */
  name: string;
  kind: ValueKind;
  optional?: boolean;
  /** Takes every remaining word (`KEY…`). */
  variadic?: boolean;
}

export interface CommandSpec {
  name: string;
  /** One line: what it does. */
  summary: string;
  args: ArgSpec[];
  options: OptionSpec[];
  /** Further help lines (plain text), shown by `keyrack help NAME`. */
  details?: string[];
  /** Parses its own words (exec: everything after its options is the command's). */
  ownGrammar?: boolean;
  /** What the words after `--` are, when the command keeps them apart (set --vault cmd: the argv). */
  tail?: string;
}

/** `daemon`'s actions, with what each does. */
export const DAEMON_ACTIONS: Record<string, string> = {
  start: 'start it now (unlock starts it when needed)',
  stop: 'stop it; every value it held is gone',
  status: 'pid, socket, session, how callers are checked, keys held',
  run: 'run it in the foreground (what start runs; for systemd)',
};

/** One line per vault for the help text; a vault without a line here is still listed. */
const VAULT_NOTES: Record<string, string> = {
  'os.secure': 'age-encrypted files (default); unlock asks your passphrase once',
  'os.direct': 'plaintext JSON, mode 0600; needs no unlock',
  '1password': 'only the op:// reference (--ref); unlock runs op',
  'aws.sso': 'only the AWS profile (--profile); expands to AWS_* variables',
  pass: 'only the entry\'s path (--ref path[#NAME]); unlock runs pass show',
  keyring: 'the Secret Service: an item (--ref attr=value,…), or a value stored there (--store)',
  hashicorp: 'Vault or OpenBao: only mount/path#field (--ref); VAULT_ADDR and a token',
  'aws.secrets': 'AWS Secrets Manager: only the secret id (--ref ID[#field], --profile)',
  'aws.ssm': 'AWS SSM Parameter Store: only the name (--ref /name, --profile)',
  cmd: 'a command that prints the value (keyrack set KEY --vault cmd -- PROG ARG…)',
};

/** The valid values of a kind, where there is a fixed list (others are names, paths or durations). */
export function choices(kind: ValueKind): readonly string[] | undefined {
  switch (kind) {
    case 'vault': return VAULTS;
    case 'hook-shell': return [...Object.keys(HOOK_SHELLS), 'direnv'];
    case 'completion-shell': return Object.keys(HOOK_SHELLS);
    case 'export-shell': return EXPORT_TARGETS;
    case 'daemon-action': return Object.keys(DAEMON_ACTIONS);
    case 'team-action': return TEAM_ACTIONS;
    case 'command': return COMMANDS.map((c) => c.name);
    default: return undefined;
  }
}

/** Help lines that list a kind's values, each with what it is. */
export function describeChoices(kind: ValueKind): string[] {
  const w = (words: readonly string[]) => Math.max(...words.map((x) => x.length));
  if (kind === 'vault') return VAULTS.map((v) => `${v.padEnd(w(VAULTS))}  ${VAULT_NOTES[v] ?? ''}`.trimEnd());
  if (kind === 'daemon-action') return Object.entries(DAEMON_ACTIONS).map(([a, d]) => `${a.padEnd(w(Object.keys(DAEMON_ACTIONS)))}  ${d}`);
  const list = choices(kind);
  return list && kind !== 'command' ? [list.join(', ')] : [];
}

const json: OptionSpec = { flag: '--json', summary: 'one JSON document on stdout (docs/json.md)' };
const keyArg: ArgSpec = { name: 'KEY', kind: 'key' };
const downgrade: OptionSpec = {
  flag: '--downgrade', summary: 'allow a key kept encrypted to move to a vault that keeps it in plaintext (os.direct); warns',
};

export const COMMANDS: readonly CommandSpec[] = [
  { name: 'init', summary: 'Create the os.secure identity, protected by a passphrase (asked twice)', args: [], options: [],
    details: ['On a terminal the passphrase is asked twice; otherwise it is the one line of stdin.'] },
  { name: 'passwd', summary: 'Change the os.secure passphrase (the current one, then the new one twice)', args: [], options: [],
    details: ['Re-encrypts the identity only, in one atomic write: your keys stay as they are, and the old passphrase',
      'stops working. Not on a terminal: three lines of stdin (current, new, new).'] },
  { name: 'set', summary: 'Store a key: its value from a hidden prompt, or stdin minus one trailing newline', args: [keyArg],
    options: [
      { flag: '--vault', value: { name: 'V', kind: 'vault' }, summary: 'where it lives (a new key: os.secure; a key you have: where it is)' },
      { flag: '--ref', value: { name: 'REF', kind: 'text' }, summary: 'where a reference vault finds it: op://…, path[#NAME], attr=value,…, mount/path#field, SECRET-ID[#field], /param/name' },
      { flag: '--profile', value: { name: 'P', kind: 'text' }, summary: 'aws.sso, aws.secrets, aws.ssm: the AWS CLI profile name' },
      { flag: '--store', summary: 'keyring: store a value in the keyring (hidden prompt on a terminal)' },
      { flag: '--exec-only', summary: 'only keyrack exec and get hand it out: the shell hook never sets it' },
      downgrade,
    ],
    tail: 'cmd: the command that prints the value, PROG [ARG...]',
    details: ['Setting a key you have rotates its value where it is; --vault (or keyrack mv) moves it.',
      '--vault cmd: keyrack set KEY --vault cmd -- PROG [ARG...] (the command runs at unlock, without a shell).'] },
  { name: 'mark', summary: 'Change a key\'s marks without touching its value', args: [keyArg],
    options: [
      { flag: '--exec-only', summary: 'only keyrack exec and get hand it out: the shell hook never sets it' },
      { flag: '--no-exec-only', summary: 'the hook may set it again (a manifest line marked exec-only still keeps it out)' },
    ] },
  { name: 'get', summary: 'Print one key\'s value (exit 2 when it is locked or absent)', args: [keyArg], options: [] },
  { name: 'list', summary: 'The keys in the registry: vault and state, never values', args: [],
    options: [json, { flag: '--names', summary: 'key names only, one per line (for scripts and completion)' }] },
  { name: 'rm', summary: 'Remove a key from the registry and its vault', args: [keyArg], options: [] },
  { name: 'mv', summary: 'Move a key to another vault, value and all', args: [keyArg],
    options: [{ flag: '--vault', value: { name: 'V', kind: 'vault' }, summary: 'the vault to move it to (os.secure or os.direct)' }, downgrade],
    details: ['The value comes from the daemon when it holds it, else from its vault (os.secure asks your passphrase).'] },
  { name: 'unlock', summary: 'Fetch keys from their vaults into the session daemon', args: [{ name: 'KEY', kind: 'key', optional: true, variadic: true }],
    options: [
      { flag: '--all', summary: 'every key in the registry' },
      { flag: '--ttl', value: { name: 'D', kind: 'duration' }, summary: 'how long the values live, e.g. 30m, 8h (default 8h)' },
      { flag: '--idle', value: { name: 'D', kind: 'duration' }, summary: 'also drop each key once nothing fetched it for this long, e.g. 15m' },
    ],
    details: ['Without KEY: the keys the nearest .keyrack lists.'] },
  { name: 'lock', summary: 'Drop keys from the daemon (all when none is named)', args: [{ name: 'KEY', kind: 'key', optional: true, variadic: true }], options: [] },
  { name: 'status', summary: 'The daemon, this login session, the keys held and the current manifest', args: [], options: [json] },
  { name: 'allow', summary: 'Trust the .keyrack in DIR (default: the nearest one up from here)', args: [{ name: 'DIR', kind: 'dir', optional: true }], options: [] },
  { name: 'deny', summary: 'Block the .keyrack in DIR until it is allowed again', args: [{ name: 'DIR', kind: 'dir', optional: true }], options: [] },
  { name: 'hook', summary: 'Print the shell hook that sets and unsets keys as you cd', args: [{ name: 'SHELL', kind: 'hook-shell' }], options: [],
    details: ['bash (~/.bashrc):  eval "$(keyrack hook bash)"', 'zsh (~/.zshrc):    eval "$(keyrack hook zsh)"',
      'fish (~/.config/fish/config.fish):  keyrack hook fish | source',
      'tcsh (~/.tcshrc):  eval "`keyrack hook tcsh`"', 'elvish (~/.config/elvish/rc.elv):  eval (keyrack hook elvish | slurp)',
      'direnv:  keyrack hook direnv > ~/.config/direnv/lib/keyrack.sh, then `use keyrack` in an .envrc'] },
  { name: 'export', summary: 'Print the env changes for this directory (what the hook evals)', args: [{ name: 'SHELL', kind: 'export-shell' }], options: [] },
  { name: 'exec', summary: 'Run one command with the keys in its environment, and nothing left behind', ownGrammar: true,
    args: [{ name: 'CMD', kind: 'command' }, { name: 'ARG', kind: 'file', optional: true, variadic: true }],
    options: [
      { flag: '--key', value: { name: 'K', kind: 'key' }, summary: 'a key to pass instead of the manifest\'s (NAME, NAME?, NAME=key; repeatable)', repeat: true },
      { flag: '--mask', summary: 'relay its output with every value replaced by <NAME> (default when stdout or stderr is not a terminal)' },
      { flag: '--no-mask', summary: 'never mask (default on a terminal)' },
    ],
    details: ['Options come before the command; `--` ends them. Exit status: the command\'s (128+n for a signal).'] },
  { name: 'daemon', summary: 'Manage the session daemon', args: [{ name: 'ACTION', kind: 'daemon-action' }], options: [] },
  { name: 'doctor', summary: 'Check what your setup needs, and say how to fix what is wrong', args: [], options: [] },
  { name: 'import', summary: 'Store every KEY=value line of a dotenv file (all or nothing)', args: [{ name: 'FILE', kind: 'file' }],
    options: [
      { flag: '--vault', value: { name: 'V', kind: 'vault' }, summary: 'os.secure (default) or os.direct' },
      { flag: '--force', summary: 'overwrite keys that exist (they move to --vault)' },
      downgrade,
    ],
    details: ['FILE - reads stdin: op inject -i tpl.env | keyrack import -'] },
  { name: 'log', summary: 'The audit log: which process got which key, when', args: [],
    options: [
      { flag: '--key', value: { name: 'K', kind: 'key' }, summary: 'only records that handed out this key (repeatable)', repeat: true },
      { flag: '--since', value: { name: 'D', kind: 'duration' }, summary: 'only the last D, e.g. 1h, 7d' },
      { flag: '--refused', summary: 'only refused connections' },
      { flag: '--follow', summary: 'keep printing new records' },
      { flag: '--json', summary: 'JSON lines, as stored' },
    ] },
  { name: 'backup', summary: 'Write identity, registry and local vaults to one age file, under your passphrase', args: [{ name: 'FILE', kind: 'file' }], options: [],
    details: ['Asks the os.secure passphrase once (one line of stdin when not on a terminal). FILE is created 0600,',
      'never replaced. The real age CLI opens it: age -d FILE | tar -tv'] },
  { name: 'restore', summary: 'Bring a backup into this HOME (a new machine)', args: [{ name: 'FILE', kind: 'file' }],
    options: [{ flag: '--force', summary: 'replace an existing identity, registry and local vaults with the backup\'s' }],
    details: ['Asks the passphrase the backup was made with; checks all of it before writing anything.'] },
  { name: 'completion', summary: 'Print tab completion for a shell', args: [{ name: 'SHELL', kind: 'completion-shell' }], options: [],
    details: ['bash:  eval "$(keyrack completion bash)"', 'zsh:   eval "$(keyrack completion zsh)"   (loads compinit if your .zshrc has not)',
      'fish:  keyrack completion fish | source', 'tcsh:  eval "`keyrack completion tcsh`"',
      'elvish:  eval (keyrack completion elvish | slurp)'] },
  { name: 'whoami', summary: 'Print your age recipient (public key), to give a team that shares secrets with you', args: [], options: [] },
  { name: 'team', summary: 'The project\'s team file: values in the repo, encrypted to every teammate',
    args: [{ name: 'ACTION', kind: 'team-action' }, { name: 'ARG', kind: 'text', optional: true, variadic: true }],
    options: [
      { flag: '--json', summary: 'team list: one JSON document on stdout' },
      { flag: '--label', value: { name: 'LABEL', kind: 'text' }, summary: 'team init: your label in the file (default: your user name)' },
    ],
    details: ['team init [--label L] | add LABEL RECIPIENT | rm LABEL | list [--json] | set KEY | unset KEY | rekey'] },
  { name: 'help', summary: 'Help on one command, or this list', args: [{ name: 'COMMAND', kind: 'command', optional: true }], options: [] },
];

/** Options people guess for something another command does: the unknown-option error points there. */
export const OPTION_HINTS: Record<string, string> = {
  '--change-passphrase': 'keyrack passwd changes the passphrase',
  '--passwd': 'keyrack passwd changes the passphrase',
  '--move': 'keyrack mv KEY --vault V moves a key',
};

/** The row for `name`, if there is one. */
export function commandSpec(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}
