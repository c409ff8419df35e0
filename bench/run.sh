#!/usr/bin/env bash
# The bench command (`npm run bench`, `npm run bench -- --quick` for a short run):
# installs what keyrack is compared against when it is missing, builds, then runs
# every comparison in a sandbox (bench/compare.ts): one table on stdout, the same
# as JSON in bench/results/latest.json. `npm run bench -- --flood [--quick]`: the
# flood of refused callers instead (bench/flood.ts; root). `npm run bench -- --mask
# [--mb N]`: exec --mask's throughput against cat (bench/mask.ts). `npm run bench --
# --scale [--quick]`: only the rows of bench/scale.ts (10,000 keys, 500 concurrent
# exports, the daemon's RSS after them, big unlocks, read-only commands).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/need-tools.sh bench direnv strace zsh fish age cc=gcc
scripts/build-all.sh

# --flood: the owner's GET during a flood of refused connections (bench/flood.ts), as root.
if [ "${1:-}" = --flood ]; then
  shift
  exec node --import tsx bench/flood.ts "$@"
fi
# --mask: exec --mask's throughput against cat (bench/mask.ts).
if [ "${1:-}" = --mask ]; then
  shift
  exec node --import tsx bench/mask.ts "$@"
fi
exec node --import tsx bench/compare.ts "$@"
