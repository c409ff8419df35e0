/**
 * `keyrack completion bash|zsh|fish`: tab completion for commands, their flags,
 * and key names from the host registry (names only, read at completion time by
 * `keyrack list --json`, so the script never goes stale).
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
const SHELLS = 'bash zsh fish';
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
    hook|completion) mapfile -t COMPREPLY < <(compgen -W "${SHELLS}" -- "$cur"); return ;;
    export) mapfile -t COMPREPLY < <(compgen -W "${SHELLS} json" -- "$cur"); return ;;
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
  lines.push(`complete -c keyrack -n '__fish_seen_subcommand_from hook completion' -a '${SHELLS}'`);
  lines.push(`complete -c keyrack -n '__fish_seen_subcommand_from export' -a '${SHELLS} json'`);
  lines.push(`complete -c keyrack -n '__fish_seen_subcommand_from daemon' -a '${DAEMON_ACTIONS}'`);
  lines.push(`complete -c keyrack -n '__fish_seen_subcommand_from team' -a '${TEAM_ACTIONS}'`);
  lines.push(`complete -c keyrack -n '__fish_seen_subcommand_from ${KEY_COMMANDS}' -a '(${keysCmd.replace(/'/g, "\\'")})'`);
  return lines.join('\n') + '\n';
}

export async function run(shell: string): Promise<number | void> {
  const gen = { bash, zsh, fish }[shell as 'bash' | 'zsh' | 'fish'];
  if (!gen) throw new UserError(`no completion for shell '${shell}' (choose: ${SHELLS})`);
  process.stdout.write(gen());
  return 0;
}
