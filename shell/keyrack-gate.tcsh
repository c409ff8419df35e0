# keyrack's prompt gate for tcsh, sourced by the precmd and cwdcmd aliases that
# shell/keyrack.tcsh installs. Builtins only, and no file is read: tcsh has no
# builtin that reads one, so a .keyrack is known by its path, kind, inode, size and
# times, the generation file by its inode and times (each generation gets a later
# mtime). A same-size rewrite of .keyrack within the second it was last looked at
# is seen at the next cd or keyrack command instead. The alias has put $status in
# __keyrack_rc (source clears it); the last line gives it back.
# The walk of src/env/manifest.ts: a directory named .keyrack is passed over;
# anything else there (a file, a symlink, a FIFO) stops it. Only a regular file's
# metadata goes into the stamp, so a link to /proc or a FIFO costs nothing.
set __keyrack_d = "$cwd"
set __keyrack_m = ''
while (1)
  if ( ( -e "$__keyrack_d/.keyrack" && ! -d "$__keyrack_d/.keyrack" ) || -l "$__keyrack_d/.keyrack" ) then
    set __keyrack_m = "$__keyrack_d/.keyrack"
    break
  endif
  if ( "$__keyrack_d" == '' ) break
  set __keyrack_d = "$__keyrack_d:h"
end
set __keyrack_c = ''
if ( "$__keyrack_m" != '' ) then
  set __keyrack_c = x
  if ( -f "$__keyrack_m" && ! -l "$__keyrack_m" ) then
    @ __keyrack_i = -I "$__keyrack_m"
    @ __keyrack_z = -Z "$__keyrack_m"
    @ __keyrack_t = -M "$__keyrack_m"
    @ __keyrack_u = -C "$__keyrack_m"
    set __keyrack_c = "f $__keyrack_i $__keyrack_z $__keyrack_t $__keyrack_u"
  endif
endif
set __keyrack_g = ''
if ( -f "$__keyrack_gen_file" ) then
  @ __keyrack_i = -I "$__keyrack_gen_file"
  @ __keyrack_t = -M "$__keyrack_gen_file"
  @ __keyrack_u = -C "$__keyrack_gen_file"
  set __keyrack_g = "$__keyrack_i $__keyrack_t $__keyrack_u"
endif
set __keyrack_k = "$__keyrack_m/$__keyrack_c/$__keyrack_g"
if ( ! $?__keyrack_last ) set __keyrack_last = '-'
# KEYRACK_STATE unset or edited by hand: what keyrack set is still in the shell, so
# the copy the hook keeps (a shell variable, never exported) wins, and export runs now.
if ( $?__keyrack_state ) then
  if ( "$__keyrack_state" != '' ) then
    set __keyrack_s = ''
    if ( $?KEYRACK_STATE ) then
      set __keyrack_s = "$KEYRACK_STATE"
    endif
    if ( "$__keyrack_s" != "$__keyrack_state" ) then
      setenv KEYRACK_STATE "$__keyrack_state"
      set __keyrack_last = '-'
    endif
  endif
endif
if ( "$__keyrack_k" != "$__keyrack_last" ) then
  set __keyrack_last = "$__keyrack_k"
  # Outside any project with nothing loaded there is nothing to do.
  set __keyrack_s = ''
  if ( $?KEYRACK_STATE ) then
    set __keyrack_s = "$KEYRACK_STATE"
  endif
  if ( "$__keyrack_m" != '' || "$__keyrack_s" != '' ) then
    # The output is read as keyrack wrote it (src/shells/tcsh.ts): backslash_quote
    # and histchars, which change what quotes mean, are off meanwhile, and tcsh
    # reads it in a UTF-8 locale, where it reads every byte of a valid value (in
    # the C locale it can drop bytes at 4 KiB boundaries of a pipe).
    # (csh substitutes a one-line `if (…) cmd` before it tests: hence the blocks.)
    unset __keyrack_bq __keyrack_hc __keyrack_lc
    if ( $?backslash_quote ) set __keyrack_bq
    if ( $?histchars ) then
      set __keyrack_hc = "$histchars:q"
    endif
    if ( $?LC_ALL ) then
      set __keyrack_lc = "$LC_ALL:q"
    endif
    unset backslash_quote histchars
    setenv LC_ALL C.UTF-8
    $__keyrack_run:q export tcsh | source /dev/stdin
    set __keyrack_state = ''
    if ( $?KEYRACK_STATE ) then
      set __keyrack_state = "$KEYRACK_STATE"
    endif
    if ( $?__keyrack_lc ) then
      setenv LC_ALL "$__keyrack_lc:q"
    else
      unsetenv LC_ALL
    endif
    if ( $?__keyrack_hc ) then
      set histchars = "$__keyrack_hc:q"
    endif
    if ( $?__keyrack_bq ) set backslash_quote
    unset __keyrack_bq __keyrack_hc __keyrack_lc
  endif
endif
set status = $__keyrack_rc
