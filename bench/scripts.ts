/**
 * The shell scripts the bench runs: each sources a hook file (whatever `keyrack
 * hook SHELL` or `direnv hook SHELL` printed), then does what a prompt does —
 * bash: every PROMPT_COMMAND entry; zsh: every precmd function (and chpwd fires on
 * cd by itself); fish: `emit fish_prompt` (and --on-variable PWD fires on cd).
 * So whatever the hook installs is what gets timed, with the shell's own clock:
 * bash $EPOCHREALTIME, zsh $epochtime (zsh/datetime), fish `date +%s%6N` (fish has
 * no clock builtin: the script also prints "base" lines, the cost of one clock
 * read, which the caller subtracts).
 *
 * Output, one fact a line: `loop N µs`, `enter µs`, `exit µs`, `base µs`, `ok`,
 * `fail WHY`.
 */
export type ShellName = 'bash' | 'zsh' | 'fish';
export const SHELLS: ShellName[] = ['bash', 'zsh', 'fish'];

export interface Project {
  dir: string;
  /** The variables loading it must set, with their values (plain [A-Za-z0-9_-]). */
  vars: Array<[string, string]>;
}

/** argv that runs a script file in SHELL without any user rc file. */
export function shellArgv(shell: ShellName, file: string, args: string[]): string[] {
  if (shell === 'bash') return ['bash', '--norc', '--noprofile', file, ...args];
  if (shell === 'zsh') return ['zsh', '-f', file, ...args];
  return ['fish', '--no-config', file, ...args];
}

const sq = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

function checks(shell: ShellName, p: Project): string {
  if (shell === 'fish') {
    const set = p.vars.map(([n, v]) => `test "$${n}" = ${sq(v)}`).join('; and ');
    const gone = p.vars.map(([n]) => `not set -q ${n}`).join('; and ');
    return `function __bench_loaded\n    ${set}\nend\nfunction __bench_clear\n    ${gone}\nend\n`;
  }
  const set = p.vars.map(([n, v]) => `\${${n}-} == ${sq(v)}`).join(' && ');
  const gone = p.vars.map(([n]) => `-z \${${n}+x}`).join(' && ');
  return `__bench_loaded() { [[ ${set} ]]; }\n__bench_clear() { [[ ${gone} ]]; }\n`;
}

/** Sourcing the hook, the prompt function and the clock, per shell. */
function prelude(shell: ShellName, hookFile: string, p: Project): string {
  if (shell === 'bash') {
    return `source ${sq(hookFile)}
__bench_prompt() { local __bench_pc; for __bench_pc in "\${PROMPT_COMMAND[@]}"; do eval "$__bench_pc"; done; }
${checks(shell, p)}`;
  }
  if (shell === 'zsh') {
    return `zmodload zsh/datetime
source ${sq(hookFile)}
__bench_prompt() { local __bench_f; for __bench_f in $precmd_functions; do $__bench_f; done; }
${checks(shell, p)}`;
  }
  return `source ${sq(hookFile)}
${checks(shell, p)}`;
}

/** A statement that sets VAR to the time in µs. */
function now(shell: ShellName, v: string): string {
  if (shell === 'bash') return `${v}=\${EPOCHREALTIME//[!0-9]/}`;
  if (shell === 'zsh') return `__bench_e=($epochtime); ${v}=$(( __bench_e[1] * 1000000 + __bench_e[2] / 1000 ))`;
  return `set ${v} (date +%s%6N)`;
}

const prompt = (shell: ShellName) => (shell === 'fish' ? 'emit fish_prompt' : '__bench_prompt');

/**
 * In PROJ (already loaded by one prompt), runs $1 prompts with nothing changed and
 * prints `loop N µs` for all of them together.
 */
export function promptScript(shell: ShellName, hookFile: string, p: Project): string {
  const head = prelude(shell, hookFile, p);
  if (shell === 'fish') {
    return `${head}
set -l n $argv[1]
cd ${sq(p.dir)}; or exit 9
emit fish_prompt
__bench_loaded; or begin; echo 'fail not loaded by the first prompt'; exit 1; end
set -l r (seq $n)
for i in 1 2 3 4 5
    ${now(shell, 'b0')}; ${now(shell, 'b1')}; echo base (math $b1 - $b0)
end
${now(shell, 't0')}
for i in $r
    emit fish_prompt
end
${now(shell, 't1')}
__bench_loaded; or echo 'fail variables lost'
echo loop $n (math $t1 - $t0)
`;
  }
  return `${head}
n=$1
cd ${sq(p.dir)} || exit 9
${prompt(shell)}
__bench_loaded || { echo 'fail not loaded by the first prompt'; exit 1; }
${now(shell, 't0')}
for ((i = 0; i < n; i++)); do ${prompt(shell)}; done
${now(shell, 't1')}
__bench_loaded || echo 'fail variables lost'
echo "loop $n $((t1 - t0))"
`;
}

/**
 * $1 times: `cd PROJ` + one prompt, timed, then check the variables are set
 * (`enter µs`); `cd OUT` + one prompt, timed, then check they are gone (`exit µs`).
 */
export function cdScript(shell: ShellName, hookFile: string, p: Project, out: string): string {
  const head = prelude(shell, hookFile, p);
  if (shell === 'fish') {
    return `${head}
set -l n $argv[1]
cd ${sq(out)}; or exit 9
emit fish_prompt
for i in (seq $n)
    ${now(shell, 't0')}; cd ${sq(p.dir)}; emit fish_prompt; ${now(shell, 't1')}
    if __bench_loaded; echo enter (math $t1 - $t0); else; echo "fail enter $i"; end
    ${now(shell, 't0')}; cd ${sq(out)}; emit fish_prompt; ${now(shell, 't1')}
    if __bench_clear; echo exit (math $t1 - $t0); else; echo "fail exit $i"; end
    ${now(shell, 'b0')}; ${now(shell, 'b1')}; echo base (math $b1 - $b0)
end
`;
  }
  return `${head}
n=$1
cd ${sq(out)} || exit 9
${prompt(shell)}
for ((i = 0; i < n; i++)); do
  ${now(shell, 't0')}; cd ${sq(p.dir)}; ${prompt(shell)}; ${now(shell, 't1')}
  if __bench_loaded; then echo "enter $((t1 - t0))"; else echo "fail enter $i"; fi
  ${now(shell, 't0')}; cd ${sq(out)}; ${prompt(shell)}; ${now(shell, 't1')}
  if __bench_clear; then echo "exit $((t1 - t0))"; else echo "fail exit $i"; fi
done
`;
}

/** A fresh bash that enters PROJ with one prompt and says `ok` when loaded. */
export function onceScript(hookFile: string, p: Project): string {
  return `${prelude('bash', hookFile, p)}
cd ${sq(p.dir)} || exit 9
__bench_prompt
if __bench_loaded; then echo ok; else echo 'fail not loaded'; fi
`;
}

/**
 * `keyrack exec -- true` vs /usr/bin/true vs `node -e ''`, with and without
 * NODE_EXTRA_CA_CERTS ($2, the bundle to set), $1 rounds, the order rotated each
 * round so no command always runs first. Prints `NAME CA µs`.
 */
export function execScript(p: Project): string {
  return `cd ${sq(p.dir)} || exit 9
rounds=$1 ca=$2
names=(true node exec)
for ((i = 0; i < rounds; i++)); do
  for v in with without; do
    if [[ $v == with ]]; then export NODE_EXTRA_CA_CERTS=$ca; else unset NODE_EXTRA_CA_CERTS; fi
    for ((j = 0; j < 3; j++)); do
      name=\${names[(i + j) % 3]}
      t0=\${EPOCHREALTIME//[!0-9]/}
      case $name in
        true) /usr/bin/true; rc=$? ;;
        node) node -e ''; rc=$? ;;
        exec) keyrack exec -- true; rc=$? ;;
      esac
      t1=\${EPOCHREALTIME//[!0-9]/}
      if ((rc == 0)); then echo "$name $v $((t1 - t0))"; else echo "fail $name exited $rc"; fi
    done
  done
done
`;
}
