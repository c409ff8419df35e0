/**
 * `keyrack help [COMMAND]`, `keyrack COMMAND --help`, and the short usage of a bare
 * `keyrack`: all written from the command table (table.ts), so help lists every
 * command, option and valid value there is, under the names the user types.
 */
import { UserError } from '../errors.js';
import { closest } from '../suggest.js';
import { VERSION } from '../version.js';
import { COMMANDS, commandSpec, describeChoices, type ArgSpec, type CommandSpec } from './table.js';

function argWord(a: ArgSpec): string {
  const w = a.variadic ? `${a.name}…` : a.name;
  return a.optional ? `[${w}]` : w;
}

/** `keyrack set KEY [--vault V] …` */
export function usageLine(c: CommandSpec): string {
  if (c.name === 'exec') return 'keyrack exec [--key K]… [--mask|--no-mask] [--] CMD [ARG…]';
  const opts = c.options.map((o) => `[${o.flag}${o.value ? ` ${o.value.name}` : ''}]`);
  return ['keyrack', c.name, ...c.args.map(argWord), ...opts, ...(c.tail ? ['[-- …]'] : [])].join(' ');
}

const table = (rows: Array<[string, string]>, indent = '  '): string[] => {
  const w = Math.max(...rows.map(([a]) => a.length), 0);
  return rows.map(([a, b]) => `${indent}${a.padEnd(w)}  ${b}`.trimEnd());
};

/** The whole help of one command. */
export function commandHelp(c: CommandSpec): string {
  const out = [`usage: ${usageLine(c)}`, '', c.summary + '.'];
  const valued = c.args.filter((a) => describeChoices(a.kind).length > 0);
  for (const a of valued) out.push('', `${a.name} is one of:`, ...describeChoices(a.kind).map((l) => `  ${l}`));
  if (c.options.length) {
    out.push('', 'options:', ...table(c.options.map((o) => [`${o.flag}${o.value ? ` ${o.value.name}` : ''}`, o.summary])));
    for (const o of c.options) {
      if (o.value && describeChoices(o.value.kind).length > 0) out.push('', `${o.value.name} is one of:`, ...describeChoices(o.value.kind).map((l) => `  ${l}`));
    }
  }
  if (c.tail) out.push('', `after --: ${c.tail}`);
  if (c.details?.length) out.push('', ...c.details);
  return out.join('\n') + '\n';
}

/** Every command, one line each. */
export function overview(): string {
  return [
    `keyrack ${VERSION} — direnv for secrets: keys in your shell while you work on a project, gone when you leave`,
    '',
    'usage: keyrack COMMAND [ARGS…]      keyrack help COMMAND for one command',
    '',
    'commands:',
    ...table(COMMANDS.map((c) => [c.name, c.summary])),
    '',
    'Start: keyrack init; keyrack set KEY; a .keyrack listing KEY; keyrack allow; then the hook',
    '(keyrack help hook). Exit codes: 0 ok, 2 you must act, 1 keyrack failed.',
  ].join('\n') + '\n';
}

/** What a bare `keyrack` prints (on stderr, exit 2): enough to find the rest. */
export function shortUsage(): string {
  return [
    'usage: keyrack COMMAND [ARGS…]',
    `commands: ${COMMANDS.map((c) => c.name).join(', ')}`,
    'keyrack help lists what each does; keyrack help COMMAND tells one in full.',
  ].join('\n') + '\n';
}

export async function run(name: string | undefined): Promise<number | void> {
  if (name === undefined) {
    process.stdout.write(overview());
    return 0;
  }
  const c = commandSpec(name);
  if (!c) {
    const near = closest(name, COMMANDS.map((x) => x.name));
    throw new UserError(`no command '${name}'${near ? ` — did you mean ${near}?` : ''} (keyrack help lists them)`);
  }
  process.stdout.write(commandHelp(c));
  return 0;
}
