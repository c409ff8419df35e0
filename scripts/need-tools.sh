#!/usr/bin/env bash
# Installs, with apt-get, the Debian packages behind the commands that are missing.
#   scripts/need-tools.sh WHO COMMAND[=PACKAGE]...
# A COMMAND containing a / is a path that must be executable (e.g. /usr/bin/aws=awscli:
# the AWS CLI v2 from Debian, however many other `aws` come earlier on PATH).
# Exits 1, saying what to install, when something is missing and cannot be installed.
set -euo pipefail
who=$1
shift
need=()
for spec in "$@"; do
  cmd=${spec%%=*}
  pkg=${spec#*=}
  if [[ $cmd == */* ]]; then
    [ -x "$cmd" ] && continue
  else
    command -v "$cmd" >/dev/null && continue
  fi
  need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "$who: installing ${need[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${need[@]}" >/dev/null
else
  echo "$who: missing ${need[*]}; install them (e.g. sudo apt-get install ${need[*]})" >&2
  exit 1
fi
