#!/usr/bin/env bash
# Builds a real Ollama server (CPU, llama.cpp compiled in through cgo) from the Go module proxy,
# for tests, CI and users who want one offline. Version pinned; the binary is cached, so a second
# run takes a second. About 8 minutes cold on 2 cores.
#   OLLAMA_VERSION  (default v0.17.4)
#   VOICE_SERVERS   cache folder (default ~/.cache/voice-assistant/servers)
# Prints the binary's path on its last line.
#
# Why not a plain `go install`: Go module zips drop every file below a `vendor/` folder, so
# llama/llama.cpp/vendor/{nlohmann,miniaudio,stb} is missing. nlohmann-json and stb come from
# Debian's packages (downloaded and unpacked under the cache, not installed), miniaudio.h from the
# Go module github.com/gen2brain/malgo. cgo gives ggml no -march: x86-64-v3 enables AVX2/FMA/F16C.
set -euo pipefail

version=${OLLAMA_VERSION:-v0.17.4}
prefix=${VOICE_SERVERS:-$HOME/.cache/voice-assistant/servers}
export GOPATH=$prefix/gopath GOCACHE=$prefix/gocache GOMODCACHE=$prefix/gopath/pkg/mod GOFLAGS=-modcacherw
bin=$GOPATH/bin/ollama
stamp=$prefix/ollama.stamp

fail() { echo "install-ollama: $*" >&2; exit 1; }
command -v go >/dev/null || fail "go not found (Go >= 1.24 is needed)"
command -v gcc >/dev/null || fail "gcc not found (run scripts/setup.sh)"
march=x86-64-v3
[ "$(uname -m)" = x86_64 ] || march=native
grep -q avx2 /proc/cpuinfo 2>/dev/null || march=x86-64

if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version $march" ]; then
  echo "install-ollama: up to date ($version)"
  echo "$bin"
  exit 0
fi

echo "install-ollama: building ollama $version ($march) in $prefix; about 8 min on 2 cores"
mkdir -p "$prefix/cinclude/miniaudio" "$prefix/debs" "$prefix/sysroot"
if ! ls "$prefix"/debs/nlohmann-json3-dev_*.deb "$prefix"/debs/libstb-dev_*.deb >/dev/null 2>&1; then
  if ! (cd "$prefix/debs" && apt-get download nlohmann-json3-dev libstb-dev) 2>/dev/null; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    (cd "$prefix/debs" && apt-get download nlohmann-json3-dev libstb-dev)
  fi
fi
for d in "$prefix"/debs/*.deb; do dpkg-deb -x "$d" "$prefix/sysroot"; done
malgo=$(go mod download -json github.com/gen2brain/malgo@v0.11.24 | sed -n 's/.*"Dir": "\(.*\)",*/\1/p')
install -m 644 "$malgo/miniaudio.h" "$prefix/cinclude/miniaudio/miniaudio.h"

CGO_ENABLED=1 \
  CGO_CPPFLAGS="-I$prefix/cinclude -I$prefix/sysroot/usr/include" \
  CGO_CFLAGS="-O2 -march=$march" CGO_CXXFLAGS="-O2 -march=$march" \
  go install -ldflags "-s -w -X github.com/ollama/ollama/version.Version=${version#v}" \
  "github.com/ollama/ollama@$version"
[ -x "$bin" ] || fail "build finished without $bin"
echo "$version $march" >"$stamp"
echo "$bin"
