/**
 * Reads a command's words by its row in the command table (commands/table.ts):
 * options anywhere before `--` (`--vault V`, `--vault=V`), a value option always
 * taking the next word (so `--ttl -1h` reaches the duration check), `-` as an
 * argument (stdin). Every refusal is a UserError (exit 2) that names the word as
 * the user typed it, never as a parser renamed it, and says what would be right.
 */
import { UserError } from './errors.js';
import { printable } from './printable.js';
import { closest } from './suggest.js';
import { OPTION_HINTS, choices, type CommandSpec, type OptionSpec } from './commands/table.js';

/** What a command was given. */
export interface Parsed {
  args: string[];
  /** By flag (`--vault`): its values in order, or [] for a switch that was given. */
  opts: Map<string, string[]>;
  /** The flags in the order given (`mark`: the last of --exec-only/--no-exec-only wins). */
  order: string[];
  /** The words after `--`, for a command that keeps them apart (CommandSpec.tail); else undefined. */
  tail?: string[];
}

/** Whether `--help`/`-h` is among the options (before any `--`). */
export function asksHelp(words: readonly string[]): boolean {
  for (const w of words) {
    if (w === '--') return false;
    if (w === '--help' || w === '-h') return true;
  }
  return false;
}

function unknownOption(spec: CommandSpec, flag: string): UserError {
  const near = closest(flag, spec.options.map((o) => o.flag));
  const known = spec.options.length ? ` (${spec.options.map((o) => o.flag).join(', ')})` : ' (it takes none)';
  const hint = OPTION_HINTS[flag];
  return new UserError(`${spec.name}: unknown option ${printable(flag)}${near ? ` — did you mean ${near}?` : known}${hint ? `; ${hint}` : ''}; see keyrack help ${spec.name}`);
}

function needsValue(spec: CommandSpec, o: OptionSpec): UserError {
  const list = o.value && choices(o.value.kind);
  return new UserError(`${spec.name}: ${o.flag} needs a value (${o.flag} ${o.value!.name}${list ? `: ${list.join(', ')}` : ''})`);
}

/** Parses the words after the command's name. */
export function parseArgs(spec: CommandSpec, words: readonly string[]): Parsed {
  const args: string[] = [];
  const opts = new Map<string, string[]>();
  const order: string[] = [];
  let tail: string[] | undefined;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === '--') {
      if (spec.tail !== undefined) tail = words.slice(i + 1);
      else args.push(...words.slice(i + 1));
      break;
    }
    if (!w.startsWith('-') || w === '-') {
      args.push(w);
      continue;
    }
    const eq = w.indexOf('=');
    const flag = w.startsWith('--') && eq !== -1 ? w.slice(0, eq) : w;
    const o = spec.options.find((x) => x.flag === flag);
    if (!o) throw unknownOption(spec, flag);
    if (opts.has(flag) && !o.repeat) throw new UserError(`${spec.name}: ${flag} is given twice`);
    const got = opts.get(flag) ?? [];
    if (o.value) {
      const v = eq !== -1 && w.startsWith('--') ? w.slice(eq + 1) : words[++i];
      if (v === undefined) throw needsValue(spec, o);
      got.push(v);
    } else if (flag !== w) {
      throw new UserError(`${spec.name}: ${flag} takes no value`);
    }
    opts.set(flag, got);
    order.push(flag);
  }
  const required = spec.args.filter((a) => !a.optional);
  if (args.length < required.length) {
    const missing = required.slice(args.length).map((a) => a.name).join(' ');
    const list = choices(required[args.length]!.kind);
    throw new UserError(`${spec.name}: missing ${missing}${list && required[args.length]!.kind !== 'command' ? ` (one of ${list.join(', ')})` : ''}; see keyrack help ${spec.name}`);
  }
  if (!spec.args.some((a) => a.variadic) && args.length > spec.args.length) {
    // Not echoed: `keyrack set KEY value` puts a secret right there.
    const extra = args.length - spec.args.length;
    const takes = spec.args.length ? `it takes ${spec.args.map((a) => (a.optional ? `[${a.name}]` : a.name)).join(' ')}` : 'it takes no arguments';
    const why = spec.args.some((a) => a.kind === 'key') && spec.name === 'set'
      ? ' — a value is never an argument (ps and your shell history would show it): type it at the prompt, or pipe it in'
      : '';
    throw new UserError(`${spec.name}: ${extra} argument${extra === 1 ? '' : 's'} too many (${takes})${why}; see keyrack help ${spec.name}`);
  }
  return tail === undefined ? { args, opts, order } : { args, opts, order, tail };
}

/** A switch's presence. */
export const has = (p: Parsed, flag: string): boolean => p.opts.has(flag);
/** An option's (last) value. */
export const valueOf = (p: Parsed, flag: string): string | undefined => p.opts.get(flag)?.at(-1);
/** A repeatable option's values. */
export const valuesOf = (p: Parsed, flag: string): string[] => p.opts.get(flag) ?? [];
