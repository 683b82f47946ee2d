#!/usr/bin/env bash
# Regenerates every *_pb.ts from the .proto files with buf and protoc-gen-es, both from npm.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
buf generate --template buf.gen.yaml
(cd examples/route-guide && buf generate --template buf.gen.yaml)
(cd test/proto && buf generate --template buf.gen.yaml)
(cd bench/proto && buf generate --template buf.gen.yaml)
(cd interop && buf generate --template buf.gen.yaml)
(cd src/protocol/protobuf/testdata && buf generate --template buf.gen.yaml)
