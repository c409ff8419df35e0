/**
 * `keyrack completion bash|zsh|fish|tcsh|elvish`: tab completion for commands,
 * their flags, and key names from the host registry (names only, read at
 * completion time by `keyrack list --json`, so the script never goes stale).
 */
import { UserError } from '../errors.js';
import { VAULTS as VAULT_IDS } from '../registry.js';

const COMMANDS: Record<string, string[]> = {
  init: [], set: ['--vault', '--ref', '--profile', '--store', '--exec-only'], get: [], list: ['--json'], rm: [],
  mark: ['--exec-only', '--no-exec-only'],
  unlock: ['--all', '--ttl', '--idle'], lock: [], status: ['--json'], allow: [], deny: [],
  hook: [], export: [], exec: ['--key', '--mask', '--no-mask'], daemon: [], doctor: [], import: ['--vault', '--force'], completion: [],
  log: ['--key', '--since', '--refused', '--follow', '--json'],
  whoami: [], team: ['--json', '--label'],
};
const SHELLS = 'bash zsh fish tcsh elvish';
const HOOKS = `${SHELLS} direnv`;
const EXPORTS = `${SHELLS} json direnv`;
const VAULTS = VAULT_IDS.join(' ');
const KEY_COMMANDS = 'set get rm unlock lock mark';
const DAEMON_ACTIONS = 'start stop status run';
const TEAM_ACTIONS = 'init add rm list set unset rekey';

const keysCmd = `keyrack list --json 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{for(const k of JSON.parse(s).keys)console.log(k.name)}catch{}})'`;

function bash(): string {
  const cmds = Object.keys(COMMANDS).join(' ');
  const flagCases = Object.entries(COMMANDS).filter(([, f]) => f.length)
    .map(([c, f]) => `    ${c}) flags="${f.join(' ')}" ;;`).join('\n');
  return `# keyrack bash completion: eval "$(keyrack completion bash)"
_keyrack_complete() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} cmd=\${COMP_WORDS[1]} flags=""
  if [[ $COMP_CWORD -eq 1 ]]; then
    mapfile -t COMPREPLY < <(compgen -W "${cmds} --help --version" -- "$cur"); return
  fi
  case $cmd in
${flagCases}
  esac
  case $prev in
    --vault) mapfile -t COMPREPLY < <(compgen -W "${VAULTS}" -- "$cur"); return ;;
  esac
  case $cmd in
    hook) mapfile -t COMPREPLY < <(compgen -W "${HOOKS}" -- "$cur"); return ;;
    completion) mapfile -t COMPREPLY < <(compgen -W "${SHELLS}" -- "$cur"); return ;;
    export) mapfile -t COMPREPLY < <(compgen -W "${EXPORTS}" -- "$cur"); return ;;
    daemon) mapfile -t COMPREPLY < <(compgen -W "${DAEMON_ACTIONS}" -- "$cur"); return ;;
    team) if [[ $COMP_CWORD -eq 2 ]]; then mapfile -t COMPREPLY < <(compgen -W "${TEAM_ACTIONS}" -- "$cur"); return; fi ;;
    allow|deny) mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return ;;
  esac
  if [[ $cur == -* ]]; then mapfile -t COMPREPLY < <(compgen -W "$flags" -- "$cur"); return; fi
  case $cmd in
    ${KEY_COMMANDS.replace(/ /g, '|')}) mapfile -t COMPREPLY < <(compgen -W "$(${keysCmd})" -- "$cur") ;;
  esac
}
complete -F _keyrack_complete keyrack
`;
}

function zsh(): string {
  return `# keyrack zsh completion: eval "$(keyrack completion zsh)" (after compinit)
autoload -Uz bashcompinit && bashcompinit
${bash()}`;
}

function fish(): string {
  const lines = ['# keyrack fish completion: keyrack completion fish | source', 'complete -c keyrack -f'];
  for (const c of Object.keys(COMMANDS)) lines.push(`complete -c keyrack -n __fish_use_subcommand -a ${c}`);
  for (const [c, flags] of Object.entries(COMMANDS)) {
    for (const f of flags) lines.push(`complete -c keyrack -n '__fish_seen_subcommand_from ${c}' -l ${f.slice(2)}${f === '--vault' ? ` -r -a '${VAULTS}'` : ''}`);
  }
  lines.push(`complete -c keyrack -n '__fish_seen_subcommand_from hook' -a '${HOOKS}'`);
  lines.push(`complete -c keyrack -n '__fish_seen_subcommand_from completion' -a '${SHELLS}'`);
  lines.push(`complete -c keyrack -n '__fish_seen_subcommand_from export' -a '${EXPORTS}'`);
  lines.push(`complete -c keyrack -n '__fish_seen_subcommand_from daemon' -a '${DAEMON_ACTIONS}'`);
  lines.push(`complete -c keyrack -n '__fish_seen_subcommand_from team' -a '${TEAM_ACTIONS}'`);
  lines.push(`complete -c keyrack -n '__fish_seen_subcommand_from ${KEY_COMMANDS}' -a '(${keysCmd.replace(/'/g, "\\'")})'`);
  return lines.join('\n') + '\n';
}

/**
 * tcsh: one `complete` line (it is eval'd from backquotes, which join lines). Its
 * patterns see only the word before the cursor, so flags are offered for every
 * command. Key names come from a node one-liner without quotes of its own: the
 * whole pattern is in single quotes.
 */
function tcsh(): string {
  const flags = [...new Set(Object.values(COMMANDS).flat())].map((f) => f.slice(2)).sort().join(' ');
  const keys = 'node -e "let b=[];process.stdin.on(/data/.source,(d)=>b.push(d)).on(/end/.source,()=>{try{for(const k of JSON.parse(Buffer.concat(b)).keys)console.log(k.name)}catch{}})"';
  const words = [
    `'p/1/(${Object.keys(COMMANDS).join(' ')} --help --version)/'`,
    `'n/hook/(${HOOKS})/'`, `'n/completion/(${SHELLS})/'`, `'n/export/(${EXPORTS})/'`,
    `'n/daemon/(${DAEMON_ACTIONS})/'`, `'n/--vault/(${VAULTS})/'`, "'n/allow/d/'", "'n/deny/d/'",
    `'c/--/(${flags})/'`,
    // @ as the separator: the one-liner holds slashes.
    ...KEY_COMMANDS.split(' ').map((c) => `'n@${c}@\`keyrack list --json |& ${keys}\`@'`),
  ];
  return `complete keyrack ${words.join(' ')}
`;
}

/** elvish: an arg-completer; elvish itself keeps the candidates that match. */
function elvish(): string {
  const flagCases = Object.entries(COMMANDS).filter(([, f]) => f.length).map(([c, f]) => `&${c}=[${f.join(' ')}]`).join(' ');
  return `# keyrack elvish completion: eval (keyrack completion elvish | slurp)
set edit:completion:arg-completer[keyrack] = {|@words|
  var flags = [${flagCases}]
  var cur = $words[-1]
  if (== (count $words) 2) { put ${Object.keys(COMMANDS).join(' ')} --help --version; return }
  var cmd = $words[1]
  if (eq $words[-2] --vault) { put ${VAULTS}; return }
  if (eq $cmd hook) { put ${HOOKS}; return }
  if (eq $cmd completion) { put ${SHELLS}; return }
  if (eq $cmd export) { put ${EXPORTS}; return }
  if (eq $cmd daemon) { put ${DAEMON_ACTIONS}; return }
  if (or (eq $cmd allow) (eq $cmd deny)) { edit:complete-filename $cur; return }
  if (and (has-key $flags $cmd) (not-eq $cur '') (eq $cur[0] -)) { all $flags[$cmd]; return }
  if (has-value [${KEY_COMMANDS}] $cmd) {
    try { each {|k| put $k[name] } (keyrack list --json 2>/dev/null | from-json)[keys] } catch { }
  }
}
`;
}

const GENERATORS: Record<string, () => string> = { bash, zsh, fish, tcsh, elvish };

export async function run(shell: string): Promise<number | void> {
  const gen = Object.hasOwn(GENERATORS, shell) ? GENERATORS[shell] : undefined;
  if (!gen) throw new UserError(`no completion for shell '${shell}' (choose: ${SHELLS})`);
  process.stdout.write(gen());
  return 0;
}
