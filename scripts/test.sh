#!/usr/bin/env bash
# Runs every *.test.ts under src/, test/, examples/ and bench/ with node:test (tsx loads TypeScript).
# Extra arguments are passed to node (e.g. --test-name-pattern=deadline).
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find src test examples bench -name '*.test.ts' -not -path '*/node_modules/*' | sort)
node --import tsx --test --test-concurrency=2 --test-timeout=120000 "$@" "${files[@]}"
# Then every interop case in every pairing (grpc-ts and @grpc/grpc-js, plaintext and TLS).
node --import tsx interop/runner.ts
