#!/usr/bin/env bash
# The test command (`npm test`): installs what the tests need when it is missing,
# builds, type-checks, lints the code (the layering rule among others) and the
# shell hooks, then runs every test file.
set -euo pipefail
cd "$(dirname "$0")/.."

# Missing tools are installed when we can; when we cannot, the tests that need
# them fail in CI and skip loudly elsewhere (test/helpers.ts requireTool).
scripts/need-tools.sh test age zsh fish tcsh elvish direnv shellcheck strace python3 git prlimit=util-linux /usr/bin/aws=awscli \
  pass gpg=gnupg gpgconf=gnupg gnome-keyring-daemon=gnome-keyring secret-tool=libsecret-tools \
  dbus-run-session=dbus-daemon dbus-send=dbus-bin openssl || true
scripts/build-all.sh
npx tsc --noEmit -p .
npm run --silent lint
if command -v shellcheck >/dev/null; then
  shellcheck -s bash shell/*.bash
  shellcheck -s sh bin/keyrack
elif [ -n "${CI:-}" ]; then
  echo "test: shellcheck is required in CI but is not installed" >&2
  exit 1
else
  echo "*** test: shellcheck is not installed: the bash hook was not linted ***" >&2
fi

files=("$@")
# In-process unit tests first (seconds), then the end-to-end ones; a test file
# left at the top of test/ (e.g. from a branch made before the split) still runs.
shopt -s nullglob
[ ${#files[@]} -gt 0 ] || files=(test/unit/*.test.ts test/e2e/*.test.ts test/*.test.ts)
exec node --import tsx --test --test-concurrency=2 --test-timeout=300000 "${files[@]}"
