#!/usr/bin/env bash
# `npm install` that works offline:
# - ONNXRUNTIME_NODE_INSTALL=skip: onnxruntime-node's install script would download CUDA libraries
#   (Dockerfile.cuda sets it to cuda12: its build has a network and wants them);
# - better-sqlite3 has no prebuilt binary for an offline machine, so node-gyp compiles it (≈2 min on
#   2 cores) and needs Node's C++ headers: those of the installed Node.js (Debian's nodejs ships them
#   in /usr/include/node) instead of a download from nodejs.org.
set -euo pipefail
cd "$(dirname "$0")/.."
export ONNXRUNTIME_NODE_INSTALL=${ONNXRUNTIME_NODE_INSTALL:-skip}
prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$prefix/include/node/common.gypi" ]; then
  export npm_config_nodedir="$prefix"
fi
exec npm install "$@"
