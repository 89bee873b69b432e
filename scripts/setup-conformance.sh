#!/usr/bin/env bash
# Builds the conformance tools the hardening tests run against the data plane, from Go modules, and
# caches them outside the repository (like scripts/setup-k8s-tools.sh):
#   h2spec                      github.com/summerwind/h2spec (the newest version the module proxy serves)
#   grpc-interop-client/server  google.golang.org/grpc/interop/{client,server} (plaintext interop peers)
#
#   bash scripts/setup-conformance.sh          # build what is missing or stale, else no-op
#   BULKHEAD_CACHE=/some/dir bash scripts/setup-conformance.sh
#
# Binaries land in ${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}/bin with one stamp file per tool naming
# its pinned versions. Measured on the shared 2-core machine: h2spec 5 s with its modules downloaded
# (2 s warm); the gRPC interop client and server 120 s with a cold module and build cache (the
# downloads included), 11 s with warm caches.
set -euo pipefail

H2SPEC_VERSION="${BULKHEAD_H2SPEC_VERSION:-v2.2.1+incompatible}"
# the same grpc-go as bench/grpc-backend, so the module cache is shared
GRPC_VERSION="${BULKHEAD_GRPC_INTEROP_VERSION:-v1.83.2}"

CACHE_DIR="${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}"
BIN_DIR="$CACHE_DIR/bin"

log() { printf '[setup-conformance %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { log "ERROR: $*"; exit 1; }

if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then
    export PATH="/usr/local/go/bin:$PATH"
  else
    die "go toolchain not found (expected on PATH or at /usr/local/go/bin/go)"
  fi
fi

mkdir -p "$BIN_DIR"
WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/bulkhead-conformance-build.XXXXXX")"
trap 'rm -rf "$WORK_DIR"' EXIT
export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:-} -mod=mod"

fresh() { # <stamp file> <wanted content> <binaries...>
  local stamp="$1" want="$2"
  shift 2
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] || return 1
  for b in "$@"; do [ -x "$BIN_DIR/$b" ] || return 1; done
}

# ------------------------------------------------------------------ h2spec ---
# h2spec has no go.mod at v2 (hence +incompatible): its dependencies are pinned here, so a later
# release of golang.org/x/net cannot change what gets built.
H2SPEC_STAMP="h2spec=$H2SPEC_VERSION x/net=v0.62.0 cobra=v1.10.2 color=v1.19.0"
if fresh "$BIN_DIR/h2spec.stamp" "$H2SPEC_STAMP" h2spec; then
  log "h2spec $H2SPEC_VERSION already in $BIN_DIR"
else
  started=$(date +%s)
  dir="$WORK_DIR/h2spec"
  mkdir -p "$dir"
  cat >"$dir/go.mod" <<EOF
module bulkhead.local/h2spec

go 1.24

require (
	github.com/summerwind/h2spec $H2SPEC_VERSION
	golang.org/x/net v0.62.0
	github.com/spf13/cobra v1.10.2
	github.com/fatih/color v1.19.0
)

tool github.com/summerwind/h2spec/cmd/h2spec
EOF
  (
    cd "$dir"
    go mod tidy
    go build -trimpath -ldflags "-s -w" -o "$BIN_DIR/h2spec.new" github.com/summerwind/h2spec/cmd/h2spec
  )
  mv -f "$BIN_DIR/h2spec.new" "$BIN_DIR/h2spec"
  echo "$H2SPEC_STAMP" >"$BIN_DIR/h2spec.stamp"
  log "h2spec $H2SPEC_VERSION built in $(( $(date +%s) - started ))s"
fi

# ------------------------------------------------------- grpc-go interop ---
GRPC_STAMP="grpc=$GRPC_VERSION"
if fresh "$BIN_DIR/grpc-interop.stamp" "$GRPC_STAMP" grpc-interop-client grpc-interop-server; then
  log "grpc-go $GRPC_VERSION interop client and server already in $BIN_DIR"
else
  started=$(date +%s)
  dir="$WORK_DIR/interop"
  mkdir -p "$dir"
  cat >"$dir/go.mod" <<EOF
module bulkhead.local/interop

go 1.24

require google.golang.org/grpc $GRPC_VERSION

tool (
	google.golang.org/grpc/interop/client
	google.golang.org/grpc/interop/server
)
EOF
  (
    cd "$dir"
    go mod tidy
    log "grpc-go $GRPC_VERSION: compiling the interop client and server"
    go build -trimpath -ldflags "-s -w" -o "$BIN_DIR/grpc-interop-client.new" google.golang.org/grpc/interop/client
    go build -trimpath -ldflags "-s -w" -o "$BIN_DIR/grpc-interop-server.new" google.golang.org/grpc/interop/server
  )
  mv -f "$BIN_DIR/grpc-interop-client.new" "$BIN_DIR/grpc-interop-client"
  mv -f "$BIN_DIR/grpc-interop-server.new" "$BIN_DIR/grpc-interop-server"
  echo "$GRPC_STAMP" >"$BIN_DIR/grpc-interop.stamp"
  log "grpc-go $GRPC_VERSION interop binaries built in $(( $(date +%s) - started ))s"
fi
