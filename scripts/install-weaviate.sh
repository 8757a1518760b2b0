#!/usr/bin/env bash
# Builds a real Weaviate server from the Go module proxy (a plain `go install`), for the knowledge
# base's Weaviate engine, its tests and users who want one offline. Version pinned; the binary is
# cached, so a second run takes a second. About 7 minutes cold on 2 cores (2.3 GB of modules).
#   WEAVIATE_VERSION  (default v1.35.2; needs Go >= 1.25)
#   VOICE_SERVERS     cache folder (default ~/.cache/voice-assistant/servers)
# Prints the binary's path on its last line.
set -euo pipefail

version=${WEAVIATE_VERSION:-v1.35.2}
prefix=${VOICE_SERVERS:-$HOME/.cache/voice-assistant/servers}
export GOPATH=$prefix/gopath GOCACHE=$prefix/gocache GOMODCACHE=$prefix/gopath/pkg/mod GOFLAGS=-modcacherw
bin=$GOPATH/bin/weaviate-server
stamp=$prefix/weaviate.stamp

fail() { echo "install-weaviate: $*" >&2; exit 1; }
command -v go >/dev/null || fail "go not found (Go >= 1.25 is needed)"

if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
  echo "install-weaviate: up to date ($version)"
  echo "$bin"
  exit 0
fi

echo "install-weaviate: building weaviate $version in $prefix; about 7 min on 2 cores"
go install -ldflags "-s -w" "github.com/weaviate/weaviate/cmd/weaviate-server@$version" \
  || fail "go install failed (network to the Go module proxy? Go >= 1.25?)"
echo "$version" > "$stamp"
echo "$bin"
