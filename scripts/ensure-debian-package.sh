#!/usr/bin/env bash
# Installs a Debian package some tests need, when what it provides is missing:
#   ensure-debian-package.sh <package> <what it is for> <shell test that it is there>
# As root with apt-get it installs it; otherwise it says which package to install, and fails.
set -euo pipefail
package=$1 purpose=$2 present=$3
if bash -c "$present" >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "[setup] installing Debian's $package package ($purpose)" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >/dev/null
  exit 0
fi
echo "[setup] $package is missing ($purpose): install Debian's $package package (sudo apt-get install $package)" >&2
exit 1
