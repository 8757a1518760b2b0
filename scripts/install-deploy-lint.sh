#!/usr/bin/env bash
# Builds scripts/deploy-lint (BuildKit's Dockerfile lint rules and the Compose loader, offline)
# from the Go module proxy, for CI's check of Dockerfile.cuda and compose.yaml. The binary is
# cached by the hash of its sources: a second run takes a second, a cold one about a minute.
#   VOICE_SERVERS   cache folder (default ~/.cache/voice-assistant/servers)
# Prints the binary's path on its last line.
set -euo pipefail
cd "$(dirname "$0")/deploy-lint"

prefix=${VOICE_SERVERS:-$HOME/.cache/voice-assistant/servers}
export GOPATH=$prefix/gopath GOCACHE=$prefix/gocache GOMODCACHE=$prefix/gopath/pkg/mod GOFLAGS=-modcacherw
bin=$prefix/deploy-lint
stamp=$prefix/deploy-lint.stamp
hash=$(cat go.mod go.sum ./*.go | sha256sum | cut -c1-16)

command -v go >/dev/null || { echo "install-deploy-lint: go not found (Go >= 1.26 is needed)" >&2; exit 1; }
if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$hash" ]; then
  echo "install-deploy-lint: up to date"
  echo "$bin"
  exit 0
fi
echo "install-deploy-lint: building in $prefix"
mkdir -p "$prefix"
CGO_ENABLED=0 go build -trimpath -o "$bin" .
echo "$hash" >"$stamp"
echo "$bin"
