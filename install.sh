#!/usr/bin/env bash
# Installs keyrack from this checkout: npm dependencies, the native peer-credential
# module, the bundled CLI, and a `keyrack` link in ${PREFIX:-$HOME/.local}/bin.
# Safe to run twice; never waits for input.
#   ./install.sh --uninstall   stops the daemon (its memory purged), removes the
#                              `keyrack` this checkout installed, and says what is
#                              left (your keys, hook lines) — it deletes no key.
set -euo pipefail
cd "$(dirname "$0")"
root=$(pwd)
bindir="${PREFIX:-$HOME/.local}/bin"

uninstall() {
  local bin="$bindir/keyrack" left=()
  if [ -x "$root/dist/keyrack.mjs" ] && command -v node >/dev/null; then
    node "$root/dist/keyrack.mjs" daemon stop </dev/null >&2 || true
  fi
  # Only the keyrack this checkout put there: its link, or its launcher naming this checkout.
  if [ -L "$bin" ] && [ "$(readlink "$bin")" = "$root/dist/keyrack.mjs" ]; then
    rm -f "$bin" && echo "keyrack: removed $bin" >&2
  elif [ -f "$bin" ] && grep -qF "$root/dist/keyrack.mjs" "$bin" 2>/dev/null; then
    rm -f "$bin" && echo "keyrack: removed $bin" >&2
  elif [ -e "$bin" ] || [ -L "$bin" ]; then
    echo "keyrack: $bin is not this checkout's; left as it is" >&2
  else
    echo "keyrack: no keyrack in $bindir" >&2
  fi
  local rc
  for rc in "$HOME/.bashrc" "$HOME/.zshrc" "${XDG_CONFIG_HOME:-$HOME/.config}/fish/config.fish"; do
    if [ -f "$rc" ] && grep -q 'keyrack hook' "$rc"; then left+=("remove the keyrack hook line from $rc"); fi
    if [ -f "$rc" ] && grep -q 'keyrack completion' "$rc"; then left+=("remove the keyrack completion line from $rc"); fi
  done
  local unit="${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user/keyrack.service"
  [ -f "$unit" ] && left+=("systemctl --user disable --now keyrack; rm $unit")
  local config="${XDG_CONFIG_HOME:-$HOME/.config}/keyrack" data="${XDG_DATA_HOME:-$HOME/.local/share}/keyrack"
  local state="${XDG_STATE_HOME:-$HOME/.local/state}/keyrack"
  if [ -e "$config" ] || [ -e "$data" ]; then
    left+=("nothing of yours was deleted: your keys are in $config and $data, the audit log in $state (rm -rf them to delete every key)")
  fi
  local l
  for l in ${left[@]+"${left[@]}"}; do echo "keyrack: to finish: $l" >&2; done
}

if [ "${1-}" = --uninstall ]; then
  uninstall
  exit 0
elif [ $# -gt 0 ]; then
  echo "usage: ./install.sh [--uninstall]" >&2
  exit 2
fi

echo "keyrack: installing npm dependencies" >&2
npm ci --no-audit --no-fund --loglevel=error </dev/null

echo "keyrack: building the native peer-credential module" >&2
build_log=$(mktemp)
if ! npm run --silent build:native </dev/null >"$build_log" 2>&1; then
  cat "$build_log" >&2
  echo "" >&2
  echo "keyrack: *** WARNING: the native module did not build (needs python3, make, g++). ***" >&2
  echo "keyrack: *** The daemon will refuse to start without it: kernel caller checks need it. ***" >&2
  echo "keyrack: *** (init, set, get of os.direct keys and the hook still work.) ***" >&2
fi
rm -f "$build_log"

echo "keyrack: bundling the CLI" >&2
npm run --silent build </dev/null

mkdir -p "$bindir"
fast="$root/native/build/Release/keyrack-fast"
node_bin=$(command -v node)
rm -f "$bindir/keyrack"
if [ -x "$fast" ]; then
  # A two-line launcher: keyrack-fast serves `exec` (and `export`) from the daemon
  # without starting Node, and runs node on the bundle for everything else.
  q() { printf "'%s'" "$(printf %s "$1" | sed "s/'/'\\\\''/g")"; }
  tmp="$bindir/.keyrack.$$"
  printf '#!/bin/sh\nexec %s %s %s "$@"\n' "$(q "$fast")" "$(q "$node_bin")" "$(q "$root/dist/keyrack.mjs")" > "$tmp"
  chmod 755 "$tmp"
  mv -f "$tmp" "$bindir/keyrack"
else
  ln -sfn "$root/dist/keyrack.mjs" "$bindir/keyrack"
fi
echo "keyrack: installed $bindir/keyrack" >&2

case ":$PATH:" in
  *":$bindir:"*) ;;
  *) echo "keyrack: add $bindir to your PATH, e.g. in ~/.bashrc: export PATH=\"$bindir:\$PATH\"" >&2 ;;
esac
cat >&2 <<MSG
keyrack: to load keys when you cd into a project, add the hook to your shell's rc file:
  bash   (~/.bashrc):                    eval "\$(keyrack hook bash)"
  zsh    (~/.zshrc):                     eval "\$(keyrack hook zsh)"
  fish   (~/.config/fish/config.fish):   keyrack hook fish | source
  tcsh   (~/.tcshrc):                    eval "\`keyrack hook tcsh\`"
  elvish (~/.config/elvish/rc.elv):      eval (keyrack hook elvish | slurp)
  direnv: keyrack hook direnv > ~/.config/direnv/lib/keyrack.sh, then \`use keyrack\` in an .envrc
MSG
