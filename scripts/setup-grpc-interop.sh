#!/usr/bin/env bash
# Builds the grpc-go interop client and server (pinned in test/grpc-interop/go.mod) and caches them
# outside the repository, for test/dataplane/grpc-interop.test.ts:
#
#   bash scripts/setup-grpc-interop.sh        # build if missing or the pins changed, else no-op
#
# The binaries land in ${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}/bin with a stamp of the module files;
# Go's module and build caches stay in their default places. A failed build fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."

go_bin="$(command -v go || true)"
if [ -z "$go_bin" ] && [ -x /usr/local/go/bin/go ]; then go_bin=/usr/local/go/bin/go; fi
if [ -z "$go_bin" ]; then
  echo "setup-grpc-interop: go toolchain not found (expected on PATH or at /usr/local/go/bin/go)" >&2
  exit 1
fi

src_dir="$PWD/test/grpc-interop"
bin_dir="${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}/bin"
stamp_file="$bin_dir/grpc-interop.stamp"
stamp="$(cat "$src_dir/go.mod" "$src_dir/go.sum" "$src_dir/tools.go" | sha256sum | cut -c1-16)"
if [ -x "$bin_dir/grpc-interop-client" ] && [ -x "$bin_dir/grpc-interop-server" ] &&
  [ "$(cat "$stamp_file" 2>/dev/null)" = "$stamp" ]; then
  exit 0
fi
mkdir -p "$bin_dir"
for part in client server; do
  target="$bin_dir/grpc-interop-$part"
  echo "setup-grpc-interop: building $target"
  # build beside the target and rename: a parallel setup never sees a half-written binary
  tmp="$target.tmp.$$"
  if ! (cd "$src_dir" && "$go_bin" build -trimpath -o "$tmp" "google.golang.org/grpc/interop/$part"); then
    rm -f "$tmp"
    echo "setup-grpc-interop: building the grpc-go interop $part failed" >&2
    exit 1
  fi
  mv -f "$tmp" "$target"
done
echo "$stamp" >"$stamp_file"
