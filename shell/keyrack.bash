# keyrack hook for bash. Install with, in ~/.bashrc:
#   eval "$(keyrack hook bash)"
# `keyrack hook bash` prints this file with the quoted '@…@' placeholders filled in.
#
# At each prompt the hook decides in shell code, with builtins only, whether
# anything may have changed: the nearest .keyrack (path and content) and the
# generation token (bumped on unlock, lock, expiry, allow, deny). Only then does it
# start keyrack. A prompt where nothing changed starts no process at all.

__keyrack_gen_file='@KEYRACK_GEN@'

__keyrack_hook() {
  local __keyrack_rc=$? __keyrack_d=$PWD __keyrack_m='' __keyrack_c='' __keyrack_g='' __keyrack_k __keyrack_r
  # The walk of src/manifest.ts: a directory named .keyrack is passed over; anything
  # else there (a file, a symlink, a FIFO) stops it. Only a regular file is read, and
  # at most 64 KiB + 1 of it (keyrack refuses more): a link to /proc or a FIFO never
  # is, so it cannot stall or slow the prompt. "f"/"x" tells the two apart.
  while :; do
    if [[ ( -e $__keyrack_d/.keyrack && ! -d $__keyrack_d/.keyrack ) || -L $__keyrack_d/.keyrack ]]; then
      __keyrack_m=$__keyrack_d/.keyrack
      break
    fi
    [[ -n $__keyrack_d ]] || break
    __keyrack_d=${__keyrack_d%/*}
  done
  if [[ -n $__keyrack_m ]]; then
    if [[ -f $__keyrack_m && ! -L $__keyrack_m && ! -r $__keyrack_m ]]; then
      # Unreadable: no error at every prompt; keyrack says so once, in its own words.
      __keyrack_c=u
    elif [[ -f $__keyrack_m && ! -L $__keyrack_m ]]; then
      # In two reads: bash sizes its buffer to -N, and 64 KiB of it costs more than
      # all of a small manifest's read. A status of 1 at EOF is normal (and must not trip errexit).
      {
        IFS= read -r -N 4096 __keyrack_c
        ((${#__keyrack_c} < 4096)) || { IFS= read -r -N 61441 __keyrack_r; __keyrack_c+=$__keyrack_r; }
      } 2>/dev/null <"$__keyrack_m" || :
      __keyrack_c=f$__keyrack_c
    else
      __keyrack_c=x
    fi
  fi
  if [[ -f $__keyrack_gen_file ]]; then
    IFS= read -r __keyrack_g 2>/dev/null <"$__keyrack_gen_file" || :
  fi
  # KEYRACK_STATE unset or edited by hand: what keyrack set is still in the shell,
  # so the copy the hook keeps (never exported) wins, and export runs now.
  if [[ -n ${__keyrack_state-} && ${KEYRACK_STATE-} != "$__keyrack_state" ]]; then
    export KEYRACK_STATE=$__keyrack_state
    __keyrack_last=
  fi
  __keyrack_k=$__keyrack_m$'\n'$__keyrack_c$'\n'$__keyrack_g
  if [[ $__keyrack_k != "${__keyrack_last-}" ]]; then
    __keyrack_last=$__keyrack_k
    # Outside any project with nothing loaded there is nothing to do.
    if [[ -n $__keyrack_m || -n ${KEYRACK_STATE-} ]]; then
      eval "$('@KEYRACK_FAST@' '@KEYRACK_NODE@' '@KEYRACK_SCRIPT@' export bash)"
      __keyrack_state=${KEYRACK_STATE-}
    fi
  fi
  return "$__keyrack_rc"
}

# Names and fingerprints of what keyrack set (never a value); exported so that a
# nested shell knows, and so that `keyrack doctor` can tell the hook is installed.
export KEYRACK_STATE="${KEYRACK_STATE-}"
__keyrack_state=$KEYRACK_STATE

# Run first at each prompt (and keep $? for whatever runs after); install once.
# Every expansion guarded: an rc file may `set -u` before this line.
if ((BASH_VERSINFO[0] * 100 + BASH_VERSINFO[1] >= 404)) && [[ -n ${PROMPT_COMMAND+set} ]] && [[ ${PROMPT_COMMAND@a} == *a* ]]; then
  __keyrack_found=
  for __keyrack_pc in ${PROMPT_COMMAND[@]+"${PROMPT_COMMAND[@]}"}; do
    [[ $__keyrack_pc == __keyrack_hook ]] && __keyrack_found=1
  done
  [[ -n $__keyrack_found ]] || PROMPT_COMMAND=(__keyrack_hook ${PROMPT_COMMAND[@]+"${PROMPT_COMMAND[@]}"})
  unset __keyrack_found __keyrack_pc
elif [[ ${PROMPT_COMMAND-} != *__keyrack_hook* ]]; then
  # The string form: PROMPT_COMMAND is not an array in this branch.
  # shellcheck disable=SC2178,SC2128
  PROMPT_COMMAND="__keyrack_hook${PROMPT_COMMAND:+;$PROMPT_COMMAND}"
fi
