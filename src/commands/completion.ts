/**
 * `keyrack completion bash|zsh|fish|tcsh|elvish`: tab completion written from the command table
 * (table.ts), so every command, option and valid value is offered. Each shell gets
 * its own native script (no bash builtins in zsh's): commands (with their summaries
 * in zsh and fish), options, vault and shell names, key names from the registry
 * (`keyrack list --names`, read at completion time, so the script never goes stale),
 * files for FILE, directories for DIR, and after `exec` a command, then that
 * command's own completion.
 */
import { UserError } from '../errors.js';
import { printable } from '../printable.js';
import { quoteFish } from '../shells/fish.js';
import { quotePosix } from '../shells/posix.js';
import { COMMANDS, choices, type ValueKind } from './table.js';

const SHELLS = ['bash', 'zsh', 'fish', 'tcsh', 'elvish'] as const;
type CompletionShell = (typeof SHELLS)[number];

/** The registry's key names: a subcommand of keyrack itself, names only. */
const KEYS_CMD = 'command keyrack list --names 2>/dev/null';

/** Fixed words of a kind, as one space-separated string; '' for kinds completed otherwise. */
function words(kind: ValueKind): string {
  const list = kind === 'command' ? COMMANDS.map((c) => c.name) : choices(kind);
  return list ? list.join(' ') : '';
}

/** `case` arms shared by bash and zsh (both read this syntax): the kind of an option's value, of each argument, and the options. */
function sharedFunctions(): string {
  const opt: string[] = [];
  const arg: string[] = [];
  const flags: string[] = [];
  for (const c of COMMANDS) {
    for (const o of c.options) if (o.value) opt.push(`    ${quotePosix(`${c.name} ${o.flag}`)}) echo ${o.value.kind} ;;`);
    c.args.forEach((a, i) => {
      if (a.variadic) arg.push(`    ${quotePosix(`${c.name} `)}*) (( $2 >= ${i} )) && echo ${a.kind} ;;`);
      else arg.push(`    ${quotePosix(`${c.name} ${i}`)}) echo ${a.kind} ;;`);
    });
    if (c.options.length) flags.push(`    ${c.name}) printf '%s\\n' ${c.options.map((o) => quotePosix(`${o.flag}:${o.summary}`)).join(' ')} ;;`);
  }
  return `# The kind of the value after option $2 of command $1 (status 1: it takes none).
_keyrack_optkind() {
  case "$1 $2" in
${opt.join('\n')}
    *) return 1 ;;
  esac
}
# The kind of argument number $2 (from 0) of command $1.
_keyrack_argkind() {
  case "$1 $2" in
${arg.join('\n')}
    *) return 1 ;;
  esac
}
# The options of command $1, as flag:summary lines.
_keyrack_opts() {
  case $1 in
${flags.join('\n')}
  esac
}
`;
}

/** How each shell offers a kind's values. */
function kindCases(shell: 'bash' | 'zsh'): string {
  const fixed = (['vault', 'hook-shell', 'export-shell', 'completion-shell', 'daemon-action'] as const)
    .map((k) => (shell === 'bash'
      ? `    ${k}) mapfile -t COMPREPLY < <(compgen -W ${quotePosix(words(k))} -- "$2") ;;`
      : `    ${k}) compadd -- ${words(k)} ;;`));
  const commandsWord = shell === 'bash'
    ? `    command) mapfile -t COMPREPLY < <(compgen -W ${quotePosix(words('command'))} -- "$2") ;;`
    : `    command) compadd -- ${words('command')} ;;`;
  if (shell === 'bash') {
    return [...fixed, commandsWord,
      `    key) mapfile -t COMPREPLY < <(compgen -W "$(${KEYS_CMD})" -- "$2") ;;`,
      '    file) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$2") ;;',
      '    dir) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- "$2") ;;'].join('\n');
  }
  return [...fixed, commandsWord,
    `    key) local -a __k; __k=(\${(f)"$(${KEYS_CMD})"}); compadd -a __k ;;`,
    '    file) _files ;;',
    '    dir) _files -/ ;;'].join('\n');
}

function bash(): string {
  return `# keyrack bash completion: eval "$(keyrack completion bash)"
${sharedFunctions()}
_keyrack_kind() {
  case $1 in
${kindCases('bash')}
  esac
}
# After exec: its options, then a command, then that command's own completion.
_keyrack_exec() {
  local i=2 w
  while ((i < COMP_CWORD)); do
    w=\${COMP_WORDS[i]}
    case $w in
      --) ((i++)); break ;;
      --key|-k) ((i += 2)) ;;
      -*) ((i++)) ;;
      *) break ;;
    esac
  done
  if ((i > COMP_CWORD)); then return; fi
  if ((i == COMP_CWORD)); then
    if [[ \${COMP_WORDS[COMP_CWORD]} == -* && \${COMP_WORDS[i-1]} != -- ]]; then
      mapfile -t COMPREPLY < <(compgen -W '--key --' -- "\${COMP_WORDS[COMP_CWORD]}")
    else
      mapfile -t COMPREPLY < <(compgen -c -- "\${COMP_WORDS[COMP_CWORD]}")
    fi
  elif declare -F _command_offset >/dev/null; then
    _command_offset "$i"
  else
    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -f -- "\${COMP_WORDS[COMP_CWORD]}")
  fi
}
_keyrack_complete() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} cmd=\${COMP_WORDS[1]-} kind i n=0 skip=
  COMPREPLY=()
  if ((COMP_CWORD == 1)); then
    mapfile -t COMPREPLY < <(compgen -W ${quotePosix(`${words('command')} --help --version`)} -- "$cur")
    return
  fi
  if kind=$(_keyrack_optkind "$cmd" "$prev"); then _keyrack_kind "$kind" "$cur"; return; fi
  if [[ $cmd == exec ]]; then _keyrack_exec; return; fi
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_keyrack_opts "$cmd" | cut -d: -f1)" -- "$cur")
    return
  fi
  for ((i = 2; i < COMP_CWORD; i++)); do
    if [[ -n $skip ]]; then skip=; continue; fi
    if _keyrack_optkind "$cmd" "\${COMP_WORDS[i]}" >/dev/null; then skip=1; continue; fi
    [[ \${COMP_WORDS[i]} == -* ]] || ((n++))
  done
  if kind=$(_keyrack_argkind "$cmd" "$n"); then _keyrack_kind "$kind" "$cur"; fi
}
complete -F _keyrack_complete keyrack
`;
}

function zsh(): string {
  const cmds = COMMANDS.map((c) => quotePosix(`${c.name}:${c.summary}`)).join(' ');
  return `# keyrack zsh completion: eval "$(keyrack completion zsh)"
# It needs zsh's completion system: loaded here when your .zshrc has not run compinit.
if (( ! $+functions[compdef] )); then autoload -Uz compinit && compinit -i; fi
${sharedFunctions()}
_keyrack_kind() {
  case $1 in
${kindCases('zsh')}
  esac
}
# After exec: its options, then a command, then that command's own completion.
_keyrack_exec() {
  local i=3 w
  if [[ \${words[CURRENT-1]} == (--key|-k) ]]; then _keyrack_kind key; return; fi
  while (( i < CURRENT )); do
    w=\${words[i]}
    case $w in
      --) (( i++ )); break ;;
      --key|-k) (( i += 2 )) ;;
      -*) (( i++ )) ;;
      *) break ;;
    esac
  done
  if (( i > CURRENT )); then return; fi
  if (( i == CURRENT )); then
    if [[ \${words[CURRENT]} == -* && \${words[i-1]} != -- ]]; then compadd -- --key --; else _command_names -e; fi
  else
    words=("\${(@)words[i,-1]}")
    (( CURRENT = CURRENT - i + 1 ))
    _normal
  fi
}
_keyrack() {
  local -a cmds opts
  cmds=(${cmds})
  if (( CURRENT == 2 )); then _describe -t commands 'keyrack command' cmds; return; fi
  local cmd=\${words[2]} prev=\${words[CURRENT-1]} kind i n=0 skip=
  if kind=$(_keyrack_optkind $cmd $prev); then _keyrack_kind $kind; return; fi
  if [[ $cmd == exec ]]; then _keyrack_exec; return; fi
  if [[ \${words[CURRENT]} == -* ]]; then
    opts=(\${(f)"$(_keyrack_opts $cmd)"})
    _describe -t options 'option' opts
    return
  fi
  for (( i = 3; i < CURRENT; i++ )); do
    if [[ -n $skip ]]; then skip=; continue; fi
    if _keyrack_optkind $cmd "\${words[i]}" >/dev/null; then skip=1; continue; fi
    [[ \${words[i]} == -* ]] || (( n++ ))
  done
  if kind=$(_keyrack_argkind $cmd $n); then _keyrack_kind $kind; fi
}
compdef _keyrack keyrack
`;
}

/** fish's own way: one `complete` line per command, option and argument, each with its summary. */
function fish(): string {
  const valopts = COMMANDS.flatMap((c) => c.options.filter((o) => o.value).map((o) => quoteFish(`${c.name} ${o.flag}`)));
  const lines = [
    '# keyrack fish completion: keyrack completion fish | source',
    '# Options that take a value, so their values are not counted as arguments.',
    `set -g __keyrack_valopts ${valopts.join(' ')}`,
    '# Completing argument number $argv[2] (from 0; with a third word, that one or later) of command $argv[1].',
    'function __keyrack_pos',
    '    set -l t (commandline -opc)',
    '    test (count $t) -ge 2; and test "$t[2]" = "$argv[1]"; or return 1',
    '    set -e t[1]; set -e t[1]',
    '    set -l n 0',
    '    set -l skip 0',
    '    for w in $t',
    '        if test $skip = 1; set skip 0; continue; end',
    '        if contains -- "$argv[1] $w" $__keyrack_valopts; set skip 1; continue; end',
    "        string match -q -- '-*' $w; and continue",
    '        set n (math $n + 1)',
    '    end',
    '    if set -q argv[3]; test $n -ge $argv[2]; else; test $n -eq $argv[2]; end',
    'end',
    'function __keyrack_using',
    '    set -l t (commandline -opc)',
    '    test (count $t) -ge 2; and contains -- "$t[2]" $argv',
    'end',
    '# After exec: its options, then a command, then that command\'s own completion.',
    'function __keyrack_exec_complete',
    '    set -l t (commandline -opc)',
    '    set -l i 3',
    '    while test $i -le (count $t)',
    '        switch $t[$i]',
    '            case --',
    '                set i (math $i + 1); break',
    '            case --key -k',
    '                set i (math $i + 2)',
    "            case '-*'",
    '                set i (math $i + 1)',
    '            case \'*\'',
    '                break',
    '        end',
    '    end',
    '    if test $i -gt (count $t)',
    '        __fish_complete_command',
    '    else',
    '        complete -C (string join -- \' \' (string escape -- $t[$i..-1]) (commandline -ct))',
    '    end',
    'end',
    'complete -c keyrack -f',
    `complete -c keyrack -n __fish_use_subcommand -l help -s h -d ${quoteFish('Help on keyrack or one command')}`,
    `complete -c keyrack -n __fish_use_subcommand -l version -d ${quoteFish('Print the version')}`,
  ];
  const action = (kind: ValueKind): string => {
    if (kind === 'key') return `-x -a ${quoteFish(`(${KEYS_CMD})`)}`;
    if (kind === 'file') return '-F';
    if (kind === 'dir') return `-x -a ${quoteFish('(__fish_complete_directories (commandline -ct))')}`;
    const w = words(kind);
    return w ? `-x -a ${quoteFish(w)}` : '-x';
  };
  for (const c of COMMANDS) {
    lines.push(`complete -c keyrack -n __fish_use_subcommand -a ${c.name} -d ${quoteFish(c.summary)}`);
    for (const o of c.options) {
      lines.push(`complete -c keyrack -n ${quoteFish(`__keyrack_using ${c.name}`)} -l ${o.flag.slice(2)}${o.value ? ` ${action(o.value.kind)}` : ''} -d ${quoteFish(o.summary)}`);
    }
    if (c.name === 'exec') {
      lines.push(`complete -c keyrack -n ${quoteFish('__keyrack_using exec')} -s k -x -a ${quoteFish(`(${KEYS_CMD})`)} -d ${quoteFish('a key to pass')}`);
      lines.push(`complete -c keyrack -n ${quoteFish('__keyrack_using exec')} -x -a ${quoteFish('(__keyrack_exec_complete)')}`);
      continue;
    }
    c.args.forEach((a, i) => {
      lines.push(`complete -c keyrack -n ${quoteFish(`__keyrack_pos ${c.name} ${i}${a.variadic ? ' +' : ''}`)} ${action(a.kind)}`);
    });
  }
  return lines.join('\n') + '\n';
}

/** The commands whose argument is a key name. */
const keyCommands = (): string[] => COMMANDS.filter((c) => c.args.some((a) => a.kind === 'key')).map((c) => c.name);

/**
 * tcsh: one `complete` line (it is eval'd from backquotes, which join lines). Its
 * patterns see only the word before the cursor, so options are offered for every
 * command, and a kind's values after the word that takes them.
 */
function tcsh(): string {
  const flags = [...new Set(COMMANDS.flatMap((c) => c.options.map((o) => o.flag.slice(2))))].sort().join(' ');
  const after = (word: string, kind: ValueKind) => `'n/${word}/(${words(kind)})/'`;
  const parts = [
    `'p/1/(${words('command')} --help --version)/'`,
    after('hook', 'hook-shell'), after('completion', 'completion-shell'), after('export', 'export-shell'),
    after('daemon', 'daemon-action'), after('help', 'command'), after('--vault', 'vault'), "'n/allow/d/'", "'n/deny/d/'",
    "'n/import/f/'", "'n/backup/f/'", "'n/restore/f/'",
    `'c/--/(${flags})/'`,
    // @ as the separator: the command holds slashes. tcsh has no 2>, so sh runs it.
    ...keyCommands().map((c) => `'n@${c}@\`sh -c "keyrack list --names 2>/dev/null"\`@'`),
  ];
  return `complete keyrack ${parts.join(' ')}
`;
}

/** elvish: an arg-completer; elvish itself keeps the candidates that match. */
function elvish(): string {
  const flagMap = COMMANDS.filter((c) => c.options.length).map((c) => `&${c.name}=[${c.options.map((o) => o.flag).join(' ')}]`).join(' ');
  return `# keyrack elvish completion: eval (keyrack completion elvish | slurp)
set edit:completion:arg-completer[keyrack] = {|@words|
  var flags = [${flagMap}]
  var cur = $words[-1]
  if (== (count $words) 2) { put ${words('command')} --help --version; return }
  var cmd = $words[1]
  if (eq $words[-2] --vault) { put ${words('vault')}; return }
  if (and (has-key $flags $cmd) (not-eq $cur '') (eq $cur[0] -)) { all $flags[$cmd]; return }
  if (eq $cmd hook) { put ${words('hook-shell')}; return }
  if (eq $cmd completion) { put ${words('completion-shell')}; return }
  if (eq $cmd export) { put ${words('export-shell')}; return }
  if (eq $cmd daemon) { put ${words('daemon-action')}; return }
  if (eq $cmd help) { put ${words('command')}; return }
  if (has-value [allow deny import backup restore] $cmd) { edit:complete-filename $cur; return }
  if (has-value [${keyCommands().join(' ')}] $cmd) {
    try { put (keyrack list --names 2>/dev/null) } catch { }
  }
}
`;
}

const GENERATORS: Record<CompletionShell, () => string> = { bash, zsh, fish, tcsh, elvish };

export async function run(shell: string): Promise<number | void> {
  const gen = Object.hasOwn(GENERATORS, shell) ? GENERATORS[shell as CompletionShell] : undefined;
  if (!gen) throw new UserError(`no completion for shell '${printable(shell)}' (one of ${SHELLS.join(', ')})`);
  process.stdout.write(gen());
  return 0;
}
