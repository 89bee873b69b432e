#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs npm packages, the Debian tools and the
# Go-built test binaries (kube-apiserver, etcd, h2spec, grpc-go interop; cached in ~/.cache/bulkhead), type-checks, then
# runs every uvu test. `.ci/run` calls exactly this through `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund
fi
echo "== system tools"
bash scripts/setup-system.sh
echo "== kube-apiserver and etcd (built once from Go modules, cached)"
bash scripts/setup-k8s-tools.sh
echo "== conformance tools: h2spec, grpc-go interop client and server (built once from Go modules, cached)"
bash scripts/setup-conformance.sh
echo "== typecheck and format (npm run lint)"
npm run -s lint
echo "== tests"
out=$(mktemp)
status=0
node --import tsx ./node_modules/uvu/bin.js test '\.test\.ts$' 2>&1 | tee "$out" || status=$?
total=$(sed 's/\x1b\[[0-9;]*m//g' "$out" | awk '/Total:/ {print $2}' | tail -n1)
passed=$(sed 's/\x1b\[[0-9;]*m//g' "$out" | awk '/Passed:/ {print $2}' | tail -n1)
rm -f "$out"
if [ -z "${total:-}" ] || [ "${total:-0}" = 0 ]; then
  echo "no tests ran"
  exit 1
fi
failed=$(( ${total:-0} - ${passed:-0} ))
echo "uvu: ${passed:-0} passed, ${failed} failed"
# uvu exits 0 when a before-hook throws (its tests are counted but never run): any gap fails the run
if [ "$failed" -ne 0 ] && [ "$status" -eq 0 ]; then status=1; fi
exit "$status"
