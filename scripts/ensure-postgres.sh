#!/usr/bin/env bash
# The tests run the catalog suite on a real PostgreSQL too: its server
# binaries come from Debian's package (the test setup starts its own cluster).
exec bash "$(dirname "$0")/ensure-debian-package.sh" postgresql "the catalog suite on PostgreSQL" 'compgen -G "/usr/lib/postgresql/*/bin/initdb"'
