#!/usr/bin/env bash
# npm test's runner: every *.test.ts under src/, test/, examples/ and bench/ with node:test
# (tsx loads TypeScript) on our own HTTP/2 transport, then the transport-sensitive end-to-end
# suites again on node:http2 (GRPC_TS_TRANSPORT=node-http2), then the interop runner on both.
# Extra arguments are passed to node (e.g. --test-name-pattern=deadline).
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find src test examples bench -name '*.test.ts' -not -path '*/node_modules/*' | sort)
node --import tsx --test --test-concurrency=2 --test-timeout=120000 "$@" "${files[@]}"
# The end-to-end suites once more on node:http2: both transports stay supported.
mapfile -t e2e < <(find test -maxdepth 1 -name '*.test.ts' | sort; find test/channel -name '*.test.ts' | sort)
GRPC_TS_TRANSPORT=node-http2 node --import tsx --test --test-concurrency=2 --test-timeout=120000 "$@" "${e2e[@]}"
# Every interop case in every pairing (grpc-ts and @grpc/grpc-js, plaintext and TLS), on both transports.
GRPC_TS_TRANSPORT=node-http2 node --import tsx interop/runner.ts
node --import tsx interop/runner.ts
