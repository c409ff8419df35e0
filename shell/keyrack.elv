# keyrack hook for elvish. Install with, in ~/.config/elvish/rc.elv:
#   eval (keyrack hook elvish | slurp)
# `keyrack hook elvish` prints this file with the quoted '@…@' placeholders filled in.
#
# Before each prompt (edit:before-readline) and after each cd (after-chdir) the hook
# decides in elvish code, with builtins only, whether anything may have changed: the
# nearest .keyrack (path and content) and the generation token (bumped on unlock,
# lock, expiry, allow, deny). Only then does it start keyrack. A prompt where
# nothing changed starts no process at all.
use path
use str

# Installed once, however often this is eval'd: a second closure would keep its
# own copy of what the first one saved. The hook is known by its first word.
var installed = $false
for f $edit:before-readline {
  try { if (str:contains $f[body] '__keyrack_hook') { set installed = $true } } catch { }
}
if (not $installed) {
  # The state lives in the closure: eval'd code cannot add variables to rc.elv's scope.
  var gen-file = '@KEYRACK_GEN@'
  var last = $nil
  # The hook's copy of KEYRACK_STATE (never exported): put back should it be unset or edited.
  var saved = ''
  # The values keyrack replaced, by name (never exported); `export elvish` sets them.
  var __keyrack_prev = [&]
  # read-bytes (elvish 0.20 and later) reads at most 64 KiB + 1. elvish 0.19 has no
  # bounded read: there read-upto takes at most 1025 lines (one line is read whole).
  # Each builtin call costs here, so the loops are lean: the gate runs at every prompt.
  var bounded = ?(eval 'var _ = $read-bytes~')
  var lines = [(range 1025)]
  var read-manifest = {|file|
    if $bounded {
      read-bytes 65537 < $file
    } else {
      var acc = ''
      {
        for _ $lines {
          var l = (read-upto "\n")
          if (eq $l '') { break }
          set acc = $acc$l
        }
      } < $file
      put $acc
    }
  }
  var hook = {
    nop __keyrack_hook
    # The walk of src/env/manifest.ts: a directory named .keyrack is passed over;
    # anything else there (a file, a symlink, a FIFO) stops it. Only a regular file
    # is read: a link to /proc or a FIFO never is, so it cannot stall the prompt.
    # (elvish 0.19 has no existence test but eval-symlinks, which cannot tell a
    # dangling link from nothing: the walk goes past one.)
    var d = $pwd
    var m = ''
    while $true {
      var p = $d/.keyrack
      if ?(var _ = (path:eval-symlinks $p)) {
        if (not (path:is-dir $p)) {
          set m = $p
          break
        }
      }
      if (eq $d /) { break }
      set d = (path:dir $d)
    }
    var c = ''
    if (not-eq $m '') {
      set c = x
      if (path:is-regular $m) {
        try { set c = f($read-manifest $m) } catch { }
      }
    }
    var g = ''
    if (path:is-regular &follow-symlink=$true $gen-file) {
      try { set g = (read-upto "\n" < $gen-file) } catch { }
    }
    # KEYRACK_STATE unset or edited by hand: what keyrack set is still in the shell,
    # so the copy wins, and export runs now.
    if (and (not-eq $saved '') (not-eq $E:KEYRACK_STATE $saved)) {
      set-env KEYRACK_STATE $saved
      set last = $nil
    }
    var k = $m"\n"$c"\n"$g
    if (not-eq $k $last) {
      set last = $k
      # Outside any project with nothing loaded there is nothing to do.
      if (or (not-eq $m '') (not-eq $E:KEYRACK_STATE '')) {
        # A failure has said why on stderr and printed no code: the shell stays as it is.
        var code = ''
        try { set code = ('@KEYRACK_FAST@' '@KEYRACK_NODE@' '@KEYRACK_SCRIPT@' export elvish | slurp) } catch { }
        # The code sees the saved values and nothing else of this closure; what it
        # assigns stays in the namespace's variable.
        var n = (ns [&__keyrack_prev=$__keyrack_prev])
        eval $code &ns=$n
        set __keyrack_prev = $n[__keyrack_prev]
        set saved = $E:KEYRACK_STATE
      }
    }
  }
  set edit:before-readline = [$@edit:before-readline $hook]
  set after-chdir = [$@after-chdir {|_| $hook }]
}

# Names and fingerprints of what keyrack set (never a value); exported so that a
# nested shell knows, and so that `keyrack doctor` can tell the hook is installed.
if (not (has-env KEYRACK_STATE)) { set-env KEYRACK_STATE '' }
