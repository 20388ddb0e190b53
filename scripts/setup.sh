#!/usr/bin/env bash
# Installs what the demo and the tests need, from scratch or incrementally:
# npm dependencies, the temporal CLI, the generated Prisma client, and the
# CLI's build (dist/cli.mjs, the `moodle-archiver` bin).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "[setup] $*" >&2; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
TEMPORAL_CLI="$(bash scripts/ensure-temporal.sh)"
export TEMPORAL_CLI
for provider in sqlite postgresql; do
  if [ ! -f "generated/prisma/$provider/client.ts" ] || [ prisma/models.prisma -nt "generated/prisma/$provider/client.ts" ]; then
    say "generating the Prisma client for $provider (offline: no schema engine needed)"
    PRISMA_SCHEMA_ENGINE_BINARY=/bin/false npx --no-install prisma generate --schema "prisma/$provider" >/dev/null
  fi
done
# The CLI from a build: it starts in well under a second, where tsx takes seconds.
npm run --silent build
say "ready (temporal: $TEMPORAL_CLI)"
