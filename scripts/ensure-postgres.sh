#!/usr/bin/env bash
# The tests run the catalog suite on a real PostgreSQL too: its server
# binaries come from Debian's package (the test setup starts its own cluster).
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "[setup] installing PostgreSQL from Debian's packages" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  exit 0
fi
echo "[setup] PostgreSQL's server is missing: install Debian's postgresql package (sudo apt-get install postgresql)" >&2
exit 1
