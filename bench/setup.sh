#!/bin/sh
# `make bench`'s set-up: wrk, the load generator (Debian's package), installed when missing.
set -e
if command -v wrk >/dev/null 2>&1; then
  exit 0
fi
echo "bench: wrk is not installed; installing it with apt-get (Debian package wrk)" >&2
SUDO=
if [ "$(id -u)" != 0 ]; then
  SUDO=sudo
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "bench: error: no apt-get here; install wrk (https://github.com/wg/wrk) and run again" >&2
  exit 1
fi
$SUDO apt-get install -y wrk >/dev/null 2>&1 || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y wrk >/dev/null; } || {
  echo "bench: error: could not install wrk with apt-get; install it yourself and run again" >&2
  exit 1
}
command -v wrk >/dev/null 2>&1 || { echo "bench: error: wrk still missing after apt-get" >&2; exit 1; }
echo "bench: wrk installed: $(command -v wrk)" >&2
