#!/usr/bin/env bash
# Builds whisper.cpp's Node addon (@fugood/whisper.node) for this CPU, offline, from npm packages.
#
# Why: the prebuilt linux-x64 CPU binary on npm is compiled without AVX/AVX2 (not one ymm
# instruction in it) and takes ~44 s for a 2 s French command on 2 cores, against ~3 s (full
# 30 s window) or ~1 s (sized encoder context) built for the host.
# Sources: the binding and whisper.cpp from the @fugood/whisper.node tarball; ggml (which that
# tarball ships only in part) from the llama.cpp release node-llama-cpp bundles as a git bundle.
# Patches to the binding and whisper.cpp, checked after applying:
#   - whisper.cpp's `abort_callback` wired to the job's cancel flag, and passed on to the ggml
#     backends that run the encoder and decoder graphs (upstream checks it only between graphs),
#     so `stop()` interrupts a transcription mid-graph instead of after the whole encoder pass;
#   - the `audioCtx` option mapped to whisper.cpp's `audio_ctx` (the shipped binding ignores it),
#     and a `maxTokens` option mapped to `max_tokens` (a partial transcript's cap);
#   - the transcription worker's error path settles the promise (upstream calls its JS callback
#     with one argument, which the callback ignores, so a cancelled or failed job never settled);
#   - the JS log callback is queued (NonBlockingCall) instead of blocking: whisper.cpp logs from
#     the JS thread while loading a model, and a blocking call there deadlocks; it is also
#     unref'd so it does not keep a process alive.
# Output: native/whisper/index.node (git-ignored). A stamp makes a second run instant.
# With CUDA (WHISPER_CUDA=1, or `auto`, the default, when nvcc is on the PATH): also
# native/whisper-cuda/index.node, the same sources and patches with GGML_CUDA=ON (stt.device cuda).
# Needs cmake, g++ and git (scripts/setup.sh installs the Debian packages); CUDA needs the toolkit.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
nm="$root/node_modules"
pkg="$nm/@fugood/whisper.node"
bundle="$nm/node-llama-cpp/llama/gitRelease.bundle"
napi="$nm/node-addon-api"
out="$root/native/whisper"
jobs=${WHISPER_BUILD_JOBS:-$(nproc)}

fail() { echo "build-whisper: $*" >&2; exit 1; }
for p in "$pkg" "$bundle" "$napi"; do [ -e "$p" ] || fail "$p is missing (run npm install first)"; done
for c in cmake g++ git; do command -v "$c" >/dev/null || fail "$c not found (run scripts/setup.sh)"; done
node_inc=""
# Node-API headers from npm (node-api-headers) first, so no system Node headers are needed.
for d in "$nm/node-api-headers/include" "$(dirname "$(dirname "$(command -v node)")")/include/node" /usr/include/node /usr/local/include/node; do
  if [ -f "$d/node_api.h" ]; then node_inc=$d; break; fi
done
[ -n "$node_inc" ] || fail "Node's headers (node_api.h) not found"

wversion=$(node -p "require('$pkg/package.json').version")
lversion=$(node -p "require('$nm/node-llama-cpp/package.json').version")
cuda=0
case "${WHISPER_CUDA:-auto}" in
  1) cuda=1 ;;
  auto) command -v nvcc >/dev/null && cuda=1 ;;
esac
cuda_out="$root/native/whisper-cuda"
stamp="cuda=$cuda whisper.node=$wversion node-llama-cpp=$lversion script=$(cat "$0" "$root/scripts/whisper-addon/CMakeLists.txt" | sha256sum | cut -c1-16) abi=$(node -p process.versions.modules) cpu=$(grep -m1 -o 'avx2' /proc/cpuinfo || echo noavx2)"
if [ -f "$out/index.node" ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ] &&
  { [ "$cuda" = 0 ] || [ -f "$cuda_out/index.node" ]; }; then
  echo "build-whisper: up to date ($stamp)"
  exit 0
fi

echo "build-whisper: building whisper.cpp addon $wversion for this CPU ($jobs jobs; about 2 min on 2 cores)"
work="$out/work"
rm -rf "$work" && mkdir -p "$work/binding"
cp -r "$pkg/src" "$pkg/whisper.cpp" "$work/binding/"
git clone -q --depth 1 "$bundle" "$work/llama.cpp" 2>/dev/null || git clone -q "$bundle" "$work/llama.cpp"

perl -0pi -e 's/(whisper_full_params params_copy = params_;\n)/$1        if (cancelFlag_) {\n            params_copy.abort_callback = [](void* data) { return static_cast<std::atomic<bool>*>(data)->load(); };\n            params_copy.abort_callback_user_data = cancelFlag_.get();\n        }\n/' "$work/binding/src/WhisperContext.cpp"
grep -q 'abort_callback_user_data = cancelFlag_' "$work/binding/src/WhisperContext.cpp" || fail "abort patch did not apply"
perl -0pi -e 's/(\} else if \(key == "bestOf")/} else if (key == "audioCtx" && value.IsNumber()) {\n            params.audio_ctx = value.As<Napi::Number>().Int32Value();\n        $1/' "$work/binding/src/common.cpp"
# The Parakeet options parser already sets audio_ctx once; the Whisper one must now too.
[ "$(grep -c 'params.audio_ctx = value' "$work/binding/src/common.cpp")" = 2 ] || fail "audioCtx patch did not apply"
# maxTokens (whisper.cpp's max_tokens per segment) caps a decode that loops on a short fragment.
perl -0pi -e 's/(\} else if \(key == "bestOf")/} else if (key == "maxTokens" && value.IsNumber()) {\n            params.max_tokens = value.As<Napi::Number>().Int32Value();\n        $1/' "$work/binding/src/common.cpp"
grep -q 'params.max_tokens = value' "$work/binding/src/common.cpp" || fail "maxTokens patch did not apply"
# beamSize was parsed but the strategy stayed greedy: beam search only runs when it is chosen.
perl -0pi -e 's/(params\.beam_search\.beam_size = value\.As<Napi::Number>\(\)\.Int32Value\(\);)/$1\n            params.strategy = params.beam_search.beam_size > 1 ? WHISPER_SAMPLING_BEAM_SEARCH : WHISPER_SAMPLING_GREEDY;/' "$work/binding/src/common.cpp"
grep -q 'WHISPER_SAMPLING_BEAM_SEARCH : WHISPER_SAMPLING_GREEDY' "$work/binding/src/common.cpp" || fail "beam-search patch did not apply"
ws="$work/binding/whisper.cpp/src/whisper.cpp"
perl -0pi -e 's/(static bool ggml_graph_compute_helper\(\n      ggml_backend_sched_t   sched,)/static thread_local ggml_abort_callback wnode_abort_cb = nullptr;\nstatic thread_local void * wnode_abort_data = nullptr;\n\n$1/; s/(            fn_set_n_threads\(backend, n_threads\);\n        \}\n)/$1        auto * fn_set_abort = (ggml_backend_set_abort_callback_t) ggml_backend_reg_get_proc_address(reg, "ggml_backend_set_abort_callback");\n        if (fn_set_abort) {\n            fn_set_abort(backend, wnode_abort_cb, wnode_abort_data);\n        }\n/; s/(                   void \* abort_callback_data\) \{\n    const int64_t t_start_us = ggml_time_us\(\);\n)/$1    wnode_abort_cb = abort_callback;\n    wnode_abort_data = abort_callback_data;\n/g' "$ws"
[ "$(grep -c 'wnode_abort_cb = abort_callback' "$ws")" = 2 ] && grep -q 'fn_set_abort(backend, wnode_abort_cb' "$ws" || fail "encoder/decoder abort patch did not apply"
perl -0pi -e 's/CleanupCallbacks\(\);\n        AsyncWorker::OnError\(error\);/CleanupCallbacks();\n        Callback().Call({error.Value(), Env().Undefined()});/' "$work/binding/src/WhisperContext.cpp"
grep -q 'AsyncWorker::OnError' "$work/binding/src/WhisperContext.cpp" && fail "error-path patch did not apply"
perl -0pi -e 's/g_js_log_callback\.BlockingCall\(/g_js_log_callback.NonBlockingCall(/; s/(                1\n            \);\n)/$1            g_js_log_callback.Unref(info.Env());\n/' "$work/binding/src/WhisperContext.cpp"
grep -q 'g_js_log_callback.NonBlockingCall(' "$work/binding/src/WhisperContext.cpp" && grep -q 'g_js_log_callback.Unref' "$work/binding/src/WhisperContext.cpp" || fail "log-callback patch did not apply"

# One configure and build per variant, from the same patched sources.
build() { # build DIR OUTFILE [CMAKE_OPTION...]
  local dir=$1 target=$2
  shift 2
  cmake -S "$root/scripts/whisper-addon" -B "$dir" -DCMAKE_BUILD_TYPE=Release \
    -DGGML_DIR="$work/llama.cpp/ggml" -DWHISPER_NODE_DIR="$work/binding" -DWHISPER_VERSION="$wversion" \
    -DNODE_INC="$node_inc" -DNAPI_INC="$napi" -DGGML_NATIVE=ON -DGGML_OPENMP=OFF "$@" \
    >>"$out/build.log" 2>&1 || { tail -30 "$out/build.log" >&2; fail "cmake configure failed (log: $out/build.log)"; }
  cmake --build "$dir" -j "$jobs" >>"$out/build.log" 2>&1 || { grep -m20 -i 'error' "$out/build.log" >&2; fail "compile failed (log: $out/build.log)"; }
  mkdir -p "$(dirname "$target")"
  cp "$dir/index.node" "$target"
}
: >"$out/build.log"
build "$work/build" "$out/index.node"
if [ "$cuda" = 1 ]; then
  echo "build-whisper: building the CUDA variant (GGML_CUDA=ON)"
  build "$work/build-cuda" "$cuda_out/index.node" -DGGML_CUDA=ON -DWHISPER_CUDA=ON
fi
echo "$stamp" >"$out/stamp"
rm -rf "$work"
echo "build-whisper: built $out/index.node$([ "$cuda" = 1 ] && echo " and $cuda_out/index.node")"
