/**
 * Wiring only: reads argv by the command table (commands/table.ts, parsed by
 * cli-args.ts) and hands each command to its own module in src/commands/, imported
 * lazily so that `keyrack export` (run on every cd) loads only what it needs.
 */
import { UserError, exitCodeOf, messageOf } from './errors.js';
import { asksExecHelp, parseExecArgs } from './exec-args.js';
import { asksHelp, has, parseArgs, valueOf, valuesOf, type Parsed } from './cli-args.js';
import { forHumans } from './printable.js';
import { closest } from './suggest.js';
import { COMMANDS, commandSpec } from './commands/table.js';
import { VERSION } from './version.js';

type Runner = (p: Parsed) => Promise<number | void>;

/** One runner per row of the command table: the module, and what it is given. */
const RUN: Record<string, Runner> = {
  init: async () => (await import('./commands/init.js')).run(),
  passwd: async () => (await import('./commands/passwd.js')).run(),
  set: async (p) => (await import('./commands/set.js')).run(p.args[0]!, {
    vault: valueOf(p, '--vault'), ref: valueOf(p, '--ref'), profile: valueOf(p, '--profile'), downgrade: has(p, '--downgrade'),
    store: has(p, '--store'), execOnly: has(p, '--exec-only'), ...(p.tail && p.tail.length > 0 ? { argv: p.tail } : {}),
  }),
  mark: async (p) => (await import('./commands/mark.js')).run(p.args[0]!, {
    execOnly: ((last) => (last === undefined ? undefined : last === '--exec-only'))(p.order.filter((f) => f.endsWith('exec-only')).at(-1)),
  }),
  mv: async (p) => (await import('./commands/mv.js')).run(p.args[0]!, { vault: valueOf(p, '--vault'), downgrade: has(p, '--downgrade') }),
  get: async (p) => (await import('./commands/get.js')).run(p.args[0]!),
  list: async (p) => (await import('./commands/list.js')).run({ json: has(p, '--json'), names: has(p, '--names') }),
  rm: async (p) => (await import('./commands/rm.js')).run(p.args[0]!),
  unlock: async (p) => (await import('./commands/unlock.js')).run(p.args, {
    all: has(p, '--all'), ttl: valueOf(p, '--ttl'), idle: valueOf(p, '--idle'),
  }),
  lock: async (p) => (await import('./commands/lock.js')).run(p.args),
  status: async (p) => (await import('./commands/status.js')).run({ json: has(p, '--json') }),
  allow: async (p) => (await import('./commands/allow.js')).run(p.args[0], true),
  deny: async (p) => (await import('./commands/allow.js')).run(p.args[0], false),
  hook: async (p) => (await import('./commands/hook.js')).run(p.args[0]!),
  export: async (p) => (await import('./commands/export.js')).run(p.args[0]!),
  daemon: async (p) => (await import('./commands/daemon.js')).run(p.args[0]!),
  doctor: async () => (await import('./commands/doctor.js')).run(),
  // `-` is stdin: import reads fd 0 itself for /dev/stdin.
  import: async (p) => (await import('./commands/import.js')).run(p.args[0] === '-' ? '/dev/stdin' : p.args[0]!, {
    vault: valueOf(p, '--vault'), force: has(p, '--force'), downgrade: has(p, '--downgrade'),
  }),
  log: async (p) => (await import('./commands/log.js')).run({
    follow: has(p, '--follow'), json: has(p, '--json'), refused: has(p, '--refused'), keys: valuesOf(p, '--key'), since: valueOf(p, '--since'),
  }),
  backup: async (p) => (await import('./commands/backup.js')).run(p.args[0]!),
  restore: async (p) => (await import('./commands/restore.js')).run(p.args[0]!, { force: has(p, '--force') }),
  whoami: async () => (await import('./commands/whoami.js')).run(),
  team: async (p) => (await import('./commands/team.js')).run(p.args[0]!, p.args.slice(1), {
    json: has(p, '--json'), label: valueOf(p, '--label'),
  }),
  completion: async (p) => (await import('./commands/completion.js')).run(p.args[0]!),
  help: async (p) => (await import('./commands/help.js')).run(p.args[0]),
};

/** `exec` parses its own options (exec-args.ts), then runs the command. */
async function runExec(argv: string[]): Promise<number | void> {
  const { keys, cmd, mask } = parseExecArgs(argv);
  return (await import('./commands/exec.js')).run(cmd, { keys, mask });
}

/**
 * The commands whose process comes to hold a value (a passphrase, an identity, a
 * key's value): made core-less and non-dumpable before they start (src/notrace.ts).
 * One list, here, so a new command cannot forget it one file away.
 */
// team: set, add, rm and rekey hold plaintext values; whoami and list do not, but one word covers the command.
const HOLDS_VALUES = new Set(['init', 'passwd', 'set', 'get', 'mv', 'unlock', 'exec', 'import', 'export', 'team', 'backup', 'restore']);

async function help(name?: string): Promise<number> {
  return (await (await import('./commands/help.js')).run(name)) ?? 0;
}

async function main(argv: string[]): Promise<number> {
  const [word, ...rest] = argv.slice(2);
  try {
    if (HOLDS_VALUES.has(word ?? '')) (await import('./notrace.js')).protectProcess();
    if (word === undefined) {
      process.stderr.write((await import('./commands/help.js')).shortUsage());
      return 2;
    }
    if (word === '--version' || word === '-v' || word === '-V') {
      process.stdout.write(`keyrack/${VERSION}\n`);
      return 0;
    }
    if (word === '--help' || word === '-h') return help();
    const spec = commandSpec(word);
    if (!spec || !RUN[spec.name] && !spec.ownGrammar) {
      const near = closest(word, COMMANDS.map((c) => c.name));
      throw new UserError(`unknown command '${word}'${near ? ` — did you mean 'keyrack ${near}'?` : ''} (keyrack help lists them)`);
    }
    if (spec.name === 'exec') return asksExecHelp(rest) ? help('exec') : (await runExec(rest)) ?? 0;
    if (asksHelp(rest)) return help(spec.name);
    return (await RUN[spec.name]!(parseArgs(spec, rest))) ?? 0;
  } catch (e) {
    process.stderr.write(`keyrack: ${forHumans(messageOf(e))}\n`);
    return exitCodeOf(e);
  }
}

process.exitCode = await main(process.argv);
