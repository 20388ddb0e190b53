#!/usr/bin/env bash
# The real-Moodle suite renders a session's HTML report in a headless browser: Debian's chromium.
set -euo pipefail
if command -v chromium >/dev/null; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "[setup] installing chromium (Debian's package) for the report's rendering check" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  exit 0
fi
echo "[setup] chromium is missing: install Debian's chromium package (sudo apt-get install chromium)" >&2
exit 1
