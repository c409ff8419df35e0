#!/usr/bin/env bash
# The bench command (`npm run bench`, `npm run bench -- --quick` for a short run):
# installs what keyrack is compared against when it is missing, builds, then runs
# every comparison in a sandbox (bench/compare.ts): one table on stdout, the same
# as JSON in bench/results/latest.json.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/need-tools.sh bench direnv strace zsh fish age cc=gcc
scripts/build-all.sh

exec node --import tsx bench/compare.ts "$@"
