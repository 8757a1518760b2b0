#!/usr/bin/env bash
# Installs the system packages the project builds and speaks with, when they are missing
# (Debian/Ubuntu): the whisper.cpp build tools, espeak-ng (phonemes for Piper, fallback voice) and
# ffmpeg (uploads in mp3, m4a, ogg, webm or flac), Chromium (the voice page's end-to-end tests), and
# PostgreSQL, Redis and HAProxy (the tests of several instances start their own on loopback).
# npm install then compiles whisper.cpp's Node addon for this CPU (scripts/build-whisper.sh).
#   --build    the build tools only, no browser (an image's build stage)
#   --runtime  what the running service needs only: espeak-ng and ffmpeg (an image's last stage)
set -euo pipefail

mode=${1:-all}
need=()
if [ "$mode" = --runtime ]; then
  command -v espeak-ng >/dev/null || need+=(espeak-ng)
  command -v ffmpeg >/dev/null || need+=(ffmpeg)
  if [ ${#need[@]} -eq 0 ]; then echo "setup: runtime packages present"; exit 0; fi
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
  # An image keeps no package lists.
  [ -f /.dockerenv ] && $sudo rm -rf /var/lib/apt/lists/*
  exit 0
fi
command -v cmake >/dev/null || need+=(cmake)
command -v g++ >/dev/null || need+=(g++)
command -v make >/dev/null || need+=(make)
command -v git >/dev/null || need+=(git)
command -v python3 >/dev/null || need+=(python3) # node-gyp (better-sqlite3)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v ffmpeg >/dev/null || need+=(ffmpeg)
[ -x /usr/bin/chromium ] || [ "$mode" = --build ] || need+=(chromium)
# Deploying at scale (tests start their own throwaway servers on loopback): PostgreSQL, Redis, HAProxy.
if [ "$mode" != --build ]; then
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
  command -v redis-server >/dev/null || need+=(redis-server)
  command -v haproxy >/dev/null || need+=(haproxy)
fi
if [ ${#need[@]} -eq 0 ]; then
  echo "setup: system packages present (cmake, g++, make, git, python3, espeak-ng, ffmpeg, chromium, postgresql, redis-server, haproxy)"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "setup: installing ${need[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
