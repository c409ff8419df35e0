/**
 * Wiring only: parses argv with cac and hands each command to its own module in
 * src/commands/, imported lazily so that `keyrack export` (run on every cd) loads
 * only what it needs.
 */
import { cac, type CAC } from 'cac';
import { UserError, exitCodeOf, messageOf } from './errors.js';
import { asksExecHelp, parseExecArgs } from './exec-args.js';
import { printable } from './printable.js';
import { VERSION } from './version.js';

type Opts = Record<string, unknown>;

function str(v: unknown): string | undefined {
  if (v === undefined || v === true || v === false) return undefined;
  return String(v);
}

/** A repeatable option: cac gives one value as a string, several as an array. */
function strs(v: unknown): string[] {
  return (Array.isArray(v) ? v : [v]).map(str).filter((s): s is string => s !== undefined);
}

/** Picks the closest known command, for "did you mean" on a typo. */
function suggest(word: string, commands: string[]): string | undefined {
  const dist = (a: string, b: string): number => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0]![j] = j;
    for (let i = 1; i <= a.length; i++) {
      for (let j = 1; j <= b.length; j++) {
        d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
        if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
      }
    }
    return d[a.length]![b.length]!;
  };
  let best: string | undefined;
  let bestD = 3;
  for (const c of commands) {
    const dd = dist(word, c);
    if (dd < bestD) [best, bestD] = [c, dd];
  }
  return best;
}

/** mark's flag as typed (cac defaults a flag that has a --no- form to true): the last one wins. */
function markFlag(argv: readonly string[]): boolean | undefined {
  const last = argv.filter((a) => a === '--exec-only' || a === '--no-exec-only').pop();
  return last === undefined ? undefined : last === '--exec-only';
}

/** The words after `--` (cac keeps them apart), when there are any. */
function afterDashes(o: Opts): { argv?: string[] } {
  const rest = o['--'];
  return Array.isArray(rest) && rest.length > 0 ? { argv: rest.map(String) } : {};
}

function build(setCode: (p: Promise<number | void>) => void): CAC {
  const cli = cac('keyrack');
  const run = (p: () => Promise<number | void>) => setCode(p());

  cli.command('init', 'Create the os.secure identity, protected by a passphrase')
    .action(() => run(async () => (await import('./commands/init.js')).run()));

  cli.command('set <key>', 'Store a key (value from a hidden prompt, or stdin); --vault cmd: keyrack set KEY --vault cmd -- PROG [ARG...]')
    .option('--vault <vault>', 'os.secure (default), os.direct, 1password, aws.sso, pass, keyring, hashicorp, aws.secrets, aws.ssm or cmd')
    .option('--ref <ref>', 'the reference: op://vault/item/field, path/in/store[#NAME], attr=value[,attr=value], mount/path#field, SECRET-ID[#field], /param/name')
    .option('--profile <profile>', 'aws.sso, aws.secrets, aws.ssm: the AWS profile name')
    .option('--store', 'keyring: store a value in the keyring (hidden prompt on a terminal)')
    .option('--exec-only', 'Only keyrack exec and get hand it out: the shell hook never sets it')
    .action((key: string, o: Opts) => run(async () => (await import('./commands/set.js')).run(key, {
      vault: str(o.vault), ref: str(o.ref), profile: str(o.profile), store: o.store === true, execOnly: o.execOnly === true, ...afterDashes(o),
    })));

  cli.command('mark <key>', 'Change a key\'s marks without touching its value: --exec-only / --no-exec-only')
    .option('--exec-only', 'Only keyrack exec and get hand it out: the shell hook never sets it; --no-exec-only: the hook may set it again (a manifest line marked exec-only still keeps it out)')
    .action((key: string) => run(async () => (await import('./commands/mark.js')).run(key, { execOnly: markFlag(process.argv) })));

  cli.command('get <key>', 'Print one key\'s value (exit 2 when locked or absent)')
    .action((key: string) => run(async () => (await import('./commands/get.js')).run(key)));

  cli.command('list', 'List the keys in the host registry (never values)')
    .option('--json', 'Machine-readable output')
    .action((o: Opts) => run(async () => (await import('./commands/list.js')).run({ json: o.json === true })));

  cli.command('rm <key>', 'Remove a key from the registry and its vault')
    .action((key: string) => run(async () => (await import('./commands/rm.js')).run(key)));

  cli.command('unlock [...keys]', 'Fetch keys from their vaults into the session daemon')
    .option('--all', 'Every key in the registry')
    .option('--ttl <duration>', 'Lifetime, e.g. 30m, 8h (default 8h)')
    .option('--idle <duration>', 'Also drop each key once unused for this long, e.g. 15m')
    .action((keys: string[], o: Opts) => run(async () => (await import('./commands/unlock.js')).run(keys, {
      all: o.all === true, ttl: str(o.ttl), idle: str(o.idle),
    })));

  cli.command('lock [...keys]', 'Drop keys from the daemon (all when none named)')
    .action((keys: string[]) => run(async () => (await import('./commands/lock.js')).run(keys)));

  cli.command('status', 'Daemon, session, keys held, and the current manifest')
    .option('--json', 'Machine-readable output')
    .action((o: Opts) => run(async () => (await import('./commands/status.js')).run({ json: o.json === true })));

  cli.command('allow [dir]', 'Trust the .keyrack manifest in DIR (default: the nearest)')
    .action((dir: string | undefined) => run(async () => (await import('./commands/allow.js')).run(dir, true)));

  cli.command('deny [dir]', 'Block the .keyrack manifest in DIR (default: the nearest)')
    .action((dir: string | undefined) => run(async () => (await import('./commands/allow.js')).run(dir, false)));

  cli.command('hook <shell>', 'Print the shell hook (bash, zsh, fish, tcsh, elvish), or direnv\'s `use keyrack` (direnv)')
    .action((shell: string) => run(async () => (await import('./commands/hook.js')).run(shell)));

  cli.command('export <shell>', 'Print the env changes for this directory (bash, zsh, fish, tcsh, elvish, json, direnv)')
    .action((shell: string) => run(async () => (await import('./commands/export.js')).run(shell)));

  cli.command('exec [...cmd]', 'Run one command with the manifest\'s keys: keyrack exec [--key K]... [--mask|--no-mask] [--] CMD [ARG...]')
    .option('--key <key>', 'A key to pass (repeatable); default: the manifest\'s keys, exec-only ones included')
    .option('--mask', 'Relay the command\'s stdout and stderr with every value replaced by <NAME> (default when either is not a terminal); --no-mask: never (default on a terminal)');

  cli.command('daemon <action>', 'Manage the session daemon: start, stop, status, run (foreground)')
    .action((action: string) => run(async () => (await import('./commands/daemon.js')).run(action)));

  cli.command('doctor', 'Check the setup and say how to fix what is wrong')
    .action(() => run(async () => (await import('./commands/doctor.js')).run()));

  cli.command('import <file>', 'Import KEY=value lines from a dotenv file into a vault')
    .option('--vault <vault>', 'os.secure (default) or os.direct')
    .option('--force', 'Overwrite keys that already exist')
    .action((file: string, o: Opts) => run(async () => (await import('./commands/import.js')).run(file, {
      vault: str(o.vault), force: o.force === true,
    })));

  cli.command('log', 'Show the audit log: which process got which key, when')
    .option('--key <key>', 'Only records that handed out this key (repeatable)')
    .option('--since <duration>', 'Only records from the last DURATION, e.g. 1h, 7d')
    .option('--refused', 'Only refused connections')
    .option('--follow', 'Keep printing new entries')
    .option('--json', 'JSON lines, as stored')
    .action((o: Opts) => run(async () => (await import('./commands/log.js')).run({
      follow: o.follow === true, json: o.json === true, refused: o.refused === true, keys: strs(o.key), since: str(o.since),
    })));

  cli.command('whoami', 'Print your age recipient (public key), to give a team that shares secrets with you')
    .action(() => run(async () => (await import('./commands/whoami.js')).run()));

  cli.command('team [...args]', 'The project\'s team file: team init|add LABEL RECIPIENT|rm LABEL|list|set KEY|unset KEY|rekey')
    .option('--json', 'team list: machine-readable output')
    .option('--label <label>', 'team init: your label in the file (default: your user name)')
    .action((args: string[], o: Opts) => run(async () => (await import('./commands/team.js')).run(args[0] ?? '', args.slice(1), {
      json: o.json === true, label: str(o.label),
    })));

  cli.command('completion <shell>', 'Print tab completion: eval "$(keyrack completion bash|zsh)", keyrack completion fish | source')
    .action((shell: string) => run(async () => (await import('./commands/completion.js')).run(shell)));

  cli.help();
  cli.version(VERSION);
  return cli;
}

/** `exec` parses its own options (exec-args.ts), then runs the command. */
async function runExec(argv: string[]): Promise<number | void> {
  const { keys, cmd, mask } = parseExecArgs(argv);
  return (await import('./commands/exec.js')).run(cmd, { keys, mask });
}

/** Options that take a value: `--ttl -1h` must reach the duration check as a value, not as flags. */
const VALUE_OPTIONS = new Set(['--ttl', '--idle', '--since', '--key', '--vault', '--ref', '--profile', '--label']);

/**
 * Rewrites what cac's parser would misread: an option value that starts with `-`,
 * and `import -` (stdin), whose lone `-` it would take for a flag.
 */
function joinOptionValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    if (a === '--') { out.push(...argv.slice(i)); break; }
    if (a === '-' && argv[2] === 'import') {
      out.push('/dev/stdin');
    } else if (VALUE_OPTIONS.has(a) && next !== undefined && next.startsWith('-') && next !== '--') {
      out.push(`${a}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

/**
 * The commands whose process comes to hold a value (a passphrase, an identity, a
 * key's value): made core-less and non-dumpable before they start (src/notrace.ts).
 * One list, here, so a new command cannot forget it one file away.
 */
// team: set, add, rm and rekey hold plaintext values; whoami and list do not, but one word covers the command.
const HOLDS_VALUES = new Set(['init', 'set', 'get', 'unlock', 'exec', 'import', 'export', 'team']);

async function main(rawArgv: string[]): Promise<number> {
  // exec's arguments after its own options belong to the command: never rewritten.
  const argv = rawArgv[2] === 'exec' ? rawArgv : joinOptionValues(rawArgv);
  try {
    if (HOLDS_VALUES.has(argv[2] ?? '')) (await import('./notrace.js')).protectProcess();
    if (argv[2] === 'exec' && !asksExecHelp(argv.slice(3))) return (await runExec(argv.slice(3))) ?? 0;
    let pending: Promise<number | void> | undefined;
    const cli = build((p) => { pending = p; });
    cli.parse(argv, { run: false });
    if (cli.options.help || cli.options.version) return 0;
    if (cli.matchedCommand === undefined) {
      const word = cli.args[0];
      if (word === undefined) {
        cli.outputHelp();
        return 2;
      }
      const s = suggest(String(word), cli.commands.map((c) => c.name));
      throw new UserError(`unknown command '${word}'${s ? ` — did you mean 'keyrack ${s}'?` : ''} (see keyrack --help)`);
    }
    cli.runMatchedCommand();
    return (await pending) ?? 0;
  } catch (e) {
    if (e instanceof Error && e.name === 'CACError') {
      process.stderr.write(`keyrack: ${printable(e.message)} (see keyrack --help)\n`);
      return 2;
    }
    process.stderr.write(`keyrack: ${printable(messageOf(e))}\n`);
    return exitCodeOf(e);
  }
}

process.exitCode = await main(process.argv);
