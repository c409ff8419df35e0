#!/usr/bin/env bash
# The test command (`npm test`): installs what the tests need when it is missing,
# builds, type-checks, lints the shell hooks, then runs every test file.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v age >/dev/null || need+=(age)
command -v zsh >/dev/null || need+=(zsh)
command -v fish >/dev/null || need+=(fish)
command -v shellcheck >/dev/null || need+=(shellcheck)
command -v strace >/dev/null || need+=(strace)
# The AWS CLI v2 from Debian; an older v1 earlier on PATH does not count.
[ -x /usr/bin/aws ] || need+=(awscli)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test: installing ${need[*]} with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "test: missing ${need[*]}; install them (e.g. sudo apt-get install ${need[*]})" >&2
  fi
fi

[ -d node_modules ] || npm ci --no-audit --no-fund
[ -f native/build/Release/keyrack_native.node ] || npm run --silent build:native
npm run --silent build
npx tsc --noEmit -p .
if ls shell/*.bash >/dev/null 2>&1; then shellcheck -s bash shell/*.bash; fi

files=("$@")
[ ${#files[@]} -gt 0 ] || files=(test/*.test.ts)
exec node --import tsx --test --test-concurrency=2 --test-timeout=300000 "${files[@]}"
