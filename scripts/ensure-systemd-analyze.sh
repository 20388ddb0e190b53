#!/usr/bin/env bash
# The tests check the shipped systemd units with systemd-analyze verify: it comes with Debian's systemd package.
set -euo pipefail
if command -v systemd-analyze >/dev/null; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "[setup] installing systemd-analyze (Debian's systemd package)" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd >/dev/null
  exit 0
fi
echo "[setup] systemd-analyze is missing: install Debian's systemd package (sudo apt-get install systemd)" >&2
exit 1
