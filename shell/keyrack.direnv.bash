# keyrack for direnv: `use keyrack` in an .envrc. Install with
#   keyrack hook direnv > ~/.config/direnv/lib/keyrack.sh
# then write `use keyrack` in a project's .envrc and run `direnv allow` there.
# `keyrack hook direnv` prints this file with the quoted '@…@' placeholders filled in.
#
# direnv sources this before it evaluates an .envrc. `use keyrack` asks keyrack for
# the keys of the nearest allowed .keyrack, the same keys a keyrack shell hook would
# load (the manifest must be allowed with `keyrack allow`; names keyrack refuses stay
# refused), and direnv exports them, takes them away again when you leave, and
# gives them to every editor that runs `direnv export json`. keyrack's answer also
# tells direnv what to watch (watch_file): where the manifest is or could appear,
# and the generation file, which changes on unlock, lock, expiry, allow and deny; so
# direnv reloads when keyrack's answer may have changed.

use_keyrack() {
  if [[ $# -gt 0 ]]; then
    log_error "keyrack: use keyrack takes no arguments (it loads the keys the nearest .keyrack lists)"
    return 1
  fi
  if [[ ! -x '@KEYRACK_NODE@' || ! -f '@KEYRACK_SCRIPT@' ]]; then
    log_error "keyrack: this file names a keyrack that is no longer there; run: keyrack hook direnv > ${BASH_SOURCE[0]}"
    return 1
  fi
  eval "$('@KEYRACK_FAST@' '@KEYRACK_NODE@' '@KEYRACK_SCRIPT@' export direnv)"
}
