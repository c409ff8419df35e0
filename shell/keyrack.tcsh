# keyrack hook for tcsh. Install with, in ~/.tcshrc:
#   eval "`keyrack hook tcsh`"
# `keyrack hook tcsh` prints one line that sets the paths (__keyrack_gen_file,
# __keyrack_run, __keyrack_gate) and sources this file, which installs the gate
# (keyrack-gate.tcsh) to run before each prompt and after each cd.
#
# tcsh has no builtin that reads a file, so the gate compares what it can learn
# with builtins only: the nearest .keyrack (its path, kind, inode, size and times)
# and the generation file's (keyrack gives each new generation a later mtime).
# Only then does it start keyrack. A prompt where nothing changed starts no process.

# Names and fingerprints of what keyrack set (never a value); exported so that a
# nested shell knows, and so that `keyrack doctor` can tell the hook is installed.
if (! $?KEYRACK_STATE) setenv KEYRACK_STATE ''
# The hook's own copy (never exported): put back should KEYRACK_STATE be unset or edited.
set __keyrack_state = "$KEYRACK_STATE"

# Before each prompt and after each cd, ahead of what the user already has there;
# once, however often this file is sourced. Reading the old alias starts a process,
# but only here, at install. $status is taken before `source`, which clears it;
# the gate gives it back at its end, for what runs after it and for the prompt.
if (! $?__keyrack_installed) then
  set __keyrack_installed
  foreach __keyrack_a (precmd cwdcmd)
    set __keyrack_old = "`alias $__keyrack_a`"
    if ( "$__keyrack_old" == '' ) then
      alias $__keyrack_a 'set __keyrack_rc = $status; source $__keyrack_gate:q'
    else
      alias $__keyrack_a 'set __keyrack_rc = $status; source $__keyrack_gate:q; '"$__keyrack_old"
    endif
  end
  unset __keyrack_a __keyrack_old
endif
