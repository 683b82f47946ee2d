#!/usr/bin/env bash
# Runs every *.test.ts under src/, test/ and examples/ with node:test (tsx loads TypeScript).
# Extra arguments are passed to node (e.g. --test-name-pattern=deadline).
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find src test examples -name '*.test.ts' -not -path '*/node_modules/*' | sort)
exec node --import tsx --test --test-concurrency=2 --test-timeout=120000 "$@" "${files[@]}"
