#!/usr/bin/env bash
# The bench command (`npm run bench`, `npm run bench -- --quick` for a short run):
# installs what keyrack is compared against when it is missing, builds, then runs
# every comparison in a sandbox (bench/compare.ts): one table on stdout, the same
# as JSON in bench/results/latest.json.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for tool in direnv strace zsh fish age; do
  command -v "$tool" >/dev/null || need+=("$tool")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "bench: installing ${need[*]} with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "bench: missing ${need[*]}; install them (e.g. sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
fi

[ -d node_modules ] || npm ci --no-audit --no-fund
# node-gyp's make step is incremental: it rebuilds the addon and keyrack-fast only
# when their sources changed.
if [ -f native/build/Makefile ]; then
  npx --no-install node-gyp build --directory native >/dev/null
else
  npm run --silent build:native >/dev/null
fi
npm run --silent build

exec node --import tsx bench/compare.ts "$@"
