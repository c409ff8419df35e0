#!/usr/bin/env bash
# Builds what tests and benchmarks run: npm dependencies when absent, the native
# module and keyrack-fast (node-gyp's make step only rebuilds changed sources, so a
# stale build never hides a C change), and the CLI bundle.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
if [ -f native/build/Makefile ]; then
  node scripts/build-native.mjs build >/dev/null
else
  npm run --silent build:native >/dev/null
fi
npm run --silent build
