# keyrack hook for zsh. Install with, in ~/.zshrc:
#   eval "$(keyrack hook zsh)"
# `keyrack hook zsh` prints this file with the quoted '@…@' placeholders filled in.
#
# At each prompt (precmd) and on each cd (chpwd, so `cd proj && cmd` already has
# the keys) the hook decides in shell code, with builtins only, whether anything
# may have changed: the nearest .keyrack (path and content) and the generation
# token (bumped on unlock, lock, expiry, allow, deny). Only then does it start
# keyrack. A prompt where nothing changed starts no process at all.

typeset -g __keyrack_gen_file='@KEYRACK_GEN@'

__keyrack_hook() {
  local __keyrack_rc=$?
  emulate -L zsh
  local __keyrack_d=$PWD __keyrack_m='' __keyrack_c='' __keyrack_g='' __keyrack_k
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
      # -k counts characters, from the file given as stdin (-u 0), not the terminal.
      # In braces: zsh reports a failed redirection before a 2>/dev/null beside it applies.
      { IFS= read -r -u 0 -k 65537 __keyrack_c <"$__keyrack_m"; } 2>/dev/null || :  # 1 at EOF is normal (and must not trip errexit)
      __keyrack_c=f$__keyrack_c
    else
      __keyrack_c=x
    fi
  fi
  if [[ -f $__keyrack_gen_file ]]; then
    { IFS= read -r __keyrack_g <"$__keyrack_gen_file"; } 2>/dev/null || :
  fi
  # KEYRACK_STATE unset or edited by hand: what keyrack set is still in the shell,
  # so the copy the hook keeps (never exported) wins, and export runs now.
  if [[ -n ${__keyrack_state-} && ${KEYRACK_STATE-} != "$__keyrack_state" ]]; then
    export KEYRACK_STATE=$__keyrack_state
    typeset -g __keyrack_last=
  fi
  __keyrack_k=$__keyrack_m$'\n'$__keyrack_c$'\n'$__keyrack_g
  if [[ $__keyrack_k != "${__keyrack_last-}" ]]; then
    typeset -g __keyrack_last=$__keyrack_k
    # Outside any project with nothing loaded there is nothing to do.
    if [[ -n $__keyrack_m || -n ${KEYRACK_STATE-} ]]; then
      eval "$('@KEYRACK_FAST@' '@KEYRACK_NODE@' '@KEYRACK_SCRIPT@' export zsh)"
      typeset -g __keyrack_state=${KEYRACK_STATE-}
    fi
  fi
  return $__keyrack_rc
}

# Names and fingerprints of what keyrack set (never a value); exported so that a
# nested shell knows, and so that `keyrack doctor` can tell the hook is installed.
export KEYRACK_STATE="${KEYRACK_STATE-}"
typeset -g __keyrack_state=$KEYRACK_STATE

# add-zsh-hook adds a function once, however often this file is eval'd.
autoload -Uz add-zsh-hook
add-zsh-hook precmd __keyrack_hook
add-zsh-hook chpwd __keyrack_hook
