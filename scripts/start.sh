#!/usr/bin/env bash
# `npm start`: the local demo with no cluster. Installs npm packages on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund >&2
fi
exec node --import tsx src/cli/main.ts demo "$@"
