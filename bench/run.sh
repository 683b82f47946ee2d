#!/usr/bin/env bash
# `npm run bench [-- --quick | --only=a,b | --reps=N | --update-readme]`: installs the
# load generator (h2load, Debian's nghttp2-client) when it is missing, then runs the
# suite (bench/run.ts). Everything it starts listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v h2load >/dev/null 2>&1; then
  echo "bench: h2load not found; installing Debian's nghttp2-client" >&2
  sudo=""
  if [ "$(id -u)" != "0" ]; then
    command -v sudo >/dev/null 2>&1 || { echo "bench: need root (or sudo) to apt-get install nghttp2-client" >&2; exit 1; }
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nghttp2-client >/dev/null
fi
command -v taskset >/dev/null 2>&1 || { echo "bench: taskset (util-linux) is required" >&2; exit 1; }

# Every measured process runs tsc's output, as a published library would run (see
# nodeArgsFor in lib/children.ts); a type error stops the run here.
rm -rf bench/.build
node_modules/.bin/tsc -p bench/tsconfig.build.json

# The orchestrator shares core 0 with the load generators; servers get core 1.
exec taskset -c 0 node --import tsx bench/run.ts "$@"
