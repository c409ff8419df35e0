#!/usr/bin/env bash
# Installs keyrack from this checkout: npm dependencies, the native peer-credential
# module, the bundled CLI, and a `keyrack` link in ${PREFIX:-$HOME/.local}/bin.
# Safe to run twice; never waits for input.
set -euo pipefail
cd "$(dirname "$0")"
root=$(pwd)
bindir="${PREFIX:-$HOME/.local}/bin"

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
