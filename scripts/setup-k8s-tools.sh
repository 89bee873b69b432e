#!/usr/bin/env bash
# Builds a kube-apiserver and an etcd from Go modules and caches them outside
# the repository, for the real-Kubernetes test harness in test/cluster/.
#
#   bash scripts/setup-k8s-tools.sh          # build if missing, else no-op
#   BULKHEAD_CACHE=/some/dir bash scripts/setup-k8s-tools.sh
#   BULKHEAD_BUILD_KUBECTL=1 ...   # also build kubectl even if one fits
#
# The binaries land in ${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}/bin together
# with a stamp file naming the pinned versions; a second run with the same
# pins and the binaries present does nothing. Go's own module and build
# caches stay in their default places (~/go, ~/.cache/go-build).
set -euo pipefail

K8S_VERSION="${BULKHEAD_K8S_VERSION:-v1.33.13}"
ETCD_VERSION="${BULKHEAD_ETCD_VERSION:-v3.6.16}"
HELM_VERSION="${BULKHEAD_HELM_VERSION:-v3.20.2}"

CACHE_DIR="${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}"
BIN_DIR="$CACHE_DIR/bin"
STAMP="$BIN_DIR/k8s-tools.stamp"

log() { printf '[setup-k8s-tools %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { log "ERROR: $*"; exit 1; }

if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then
    export PATH="/usr/local/go/bin:$PATH"
  else
    die "go toolchain not found (expected on PATH or at /usr/local/go/bin/go)"
  fi
fi

# Staging modules are published as v0.<minor>.<patch> of the kubernetes tag.
K8S_MINOR="$(echo "$K8S_VERSION" | cut -d. -f2)"
K8S_STAGING_VERSION="v0.${K8S_VERSION#v1.}"

# The machine's kubectl is usable when it is within one minor of the server;
# otherwise a kubectl of the server's version is built next to it.
need_kubectl=0
system_kubectl_minor=""
if command -v kubectl >/dev/null 2>&1; then
  system_kubectl_minor="$(kubectl version --client -o json 2>/dev/null \
    | sed -n 's/.*"minor": *"\([0-9]*\).*/\1/p' | head -n1 || true)"
fi
if [ "${BULKHEAD_BUILD_KUBECTL:-0}" = 1 ] || [ -z "$system_kubectl_minor" ]; then
  need_kubectl=1
else
  skew=$((K8S_MINOR - system_kubectl_minor))
  if [ "$skew" -gt 1 ] || [ "$skew" -lt -1 ]; then need_kubectl=1; fi
fi

WANT_STAMP="kubernetes=$K8S_VERSION etcd=$ETCD_VERSION kubectl=$need_kubectl"

# helm (the chart test renders dist/helm/bulkhead with `helm template`): its module has no replace
# directives, so `go install` builds it; cached with its own stamp, independent of the k8s pins.
HELM_STAMP="$BIN_DIR/helm.stamp"
if [ "$(cat "$HELM_STAMP" 2>/dev/null)" != "helm=$HELM_VERSION" ] || [ ! -x "$BIN_DIR/helm" ]; then
  mkdir -p "$BIN_DIR"
  log "building helm $HELM_VERSION from Go modules into $BIN_DIR (a few minutes the first time)"
  helm_started=$(date +%s)
  helm_gobin="$(mktemp -d "${TMPDIR:-/tmp}/bulkhead-helm.XXXXXX")"
  # progress at least every 30 s while go works
  ( while sleep 30; do log "helm: still building ($(( $(date +%s) - helm_started ))s)"; done ) &
  helm_ticker=$!
  helm_status=0
  CGO_ENABLED=0 GOBIN="$helm_gobin" go install -trimpath -ldflags "-s -w" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" || helm_status=$?
  kill "$helm_ticker" 2>/dev/null || true
  [ "$helm_status" -eq 0 ] || die "go install helm $HELM_VERSION failed ($helm_status)"
  mv -f "$helm_gobin/helm" "$BIN_DIR/helm"
  rm -rf "$helm_gobin"
  echo "helm=$HELM_VERSION" >"$HELM_STAMP"
  log "helm $HELM_VERSION: done in $(( $(date +%s) - helm_started ))s"
fi

up_to_date() {
  [ -f "$STAMP" ] || return 1
  [ "$(cat "$STAMP")" = "$WANT_STAMP" ] || return 1
  [ -x "$BIN_DIR/kube-apiserver" ] || return 1
  [ -x "$BIN_DIR/etcd" ] || return 1
  if [ "$need_kubectl" = 1 ]; then [ -x "$BIN_DIR/kubectl" ] || return 1; fi
  return 0
}

if up_to_date; then
  log "binaries for $WANT_STAMP already in $BIN_DIR; nothing to do"
  exit 0
fi

mkdir -p "$BIN_DIR"
WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/bulkhead-k8s-build.XXXXXX")"
trap 'rm -rf "$WORK_DIR"' EXIT
started_at=$(date +%s)
log "building into $BIN_DIR ($WANT_STAMP), work dir $WORK_DIR"
export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:-} -mod=mod"

# ---------------------------------------------------------------- etcd ---
build_etcd() {
  local dir="$WORK_DIR/etcd"
  mkdir -p "$dir"
  log "etcd $ETCD_VERSION: preparing module"
  cat >"$dir/main.go" <<'EOF'
// Command etcd is a thin entry point around etcd's own main for tests.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
  (
    cd "$dir"
    go mod init bulkhead.local/etcd >/dev/null 2>&1
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
    go mod tidy
    log "etcd $ETCD_VERSION: compiling"
    go build -trimpath -ldflags "-s -w" -o "$BIN_DIR/etcd.new" .
  )
  mv -f "$BIN_DIR/etcd.new" "$BIN_DIR/etcd"
  log "etcd $ETCD_VERSION: done ($("$BIN_DIR/etcd" --version | head -n1))"
}

# ------------------------------------------------------ kube-apiserver ---
# k8s.io/kubernetes replaces its staging modules with local paths, which
# `go install pkg@version` refuses. A small module of our own requires the
# kubernetes module and points every staging replace at the published
# v0.X.Y release instead; the list comes from that version's go.mod.
build_kube() {
  local dir="$WORK_DIR/kube"
  mkdir -p "$dir"
  cd "$WORK_DIR"
  log "kubernetes $K8S_VERSION: reading upstream go.mod"
  local upstream_mod
  upstream_mod="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" \
    | sed -n 's/^[[:space:]]*"GoMod": *"\(.*\)",\{0,1\}$/\1/p')"
  [ -f "$upstream_mod" ] || die "could not download go.mod of k8s.io/kubernetes@$K8S_VERSION"

  local go_line godebug_lines replaces
  go_line="$(grep -m1 -E '^go [0-9]' "$upstream_mod")"
  godebug_lines="$(grep -E '^godebug ' "$upstream_mod" || true)"
  # Every "k8s.io/x => ./staging/src/k8s.io/x" becomes "k8s.io/x => k8s.io/x v0.Y.Z".
  replaces="$(grep -oE 'k8s\.io/[A-Za-z0-9._-]+ => \./staging/src/k8s\.io/[A-Za-z0-9._-]+' "$upstream_mod" \
    | awk -v v="$K8S_STAGING_VERSION" '{ printf "\t%s => %s %s\n", $1, $1, v }')"
  [ -n "$replaces" ] || die "no staging replace directives found in $upstream_mod"
  log "kubernetes $K8S_VERSION: $(echo "$replaces" | wc -l) staging modules pinned to $K8S_STAGING_VERSION"

  local tools="tool k8s.io/kubernetes/cmd/kube-apiserver"
  if [ "$need_kubectl" = 1 ]; then tools="$tools
tool k8s.io/kubernetes/cmd/kubectl"; fi

  cat >"$dir/go.mod" <<EOF
module bulkhead.local/kube

$go_line

$godebug_lines

require k8s.io/kubernetes $K8S_VERSION

$tools

replace (
$replaces
)
EOF
  (
    cd "$dir"
    log "kubernetes $K8S_VERSION: resolving modules (go mod tidy)"
    go mod tidy
    local pkg="k8s.io/component-base/version"
    local cpkg="k8s.io/client-go/pkg/version"
    local ld="-s -w"
    for p in "$pkg" "$cpkg"; do
      ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$K8S_MINOR"
      ld="$ld -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
    done
    log "kubernetes $K8S_VERSION: compiling kube-apiserver (the long part)"
    go build -trimpath -ldflags "$ld" -o "$BIN_DIR/kube-apiserver.new" k8s.io/kubernetes/cmd/kube-apiserver
    if [ "$need_kubectl" = 1 ]; then
      log "kubernetes $K8S_VERSION: compiling kubectl"
      go build -trimpath -ldflags "$ld" -o "$BIN_DIR/kubectl.new" k8s.io/kubernetes/cmd/kubectl
    fi
  )
  mv -f "$BIN_DIR/kube-apiserver.new" "$BIN_DIR/kube-apiserver"
  if [ "$need_kubectl" = 1 ]; then mv -f "$BIN_DIR/kubectl.new" "$BIN_DIR/kubectl"; fi
  log "kubernetes $K8S_VERSION: done ($("$BIN_DIR/kube-apiserver" --version))"
}

rm -f "$STAMP"
build_etcd
build_kube
echo "$WANT_STAMP" >"$STAMP"
log "all done in $(( $(date +%s) - started_at ))s; binaries in $BIN_DIR"
