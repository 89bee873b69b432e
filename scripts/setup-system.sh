#!/usr/bin/env bash
# Installs the system tools that Bulkhead's tests and benchmarks drive as real peers: servers they
# start themselves (redis-server, nginx, haproxy), load generators (wrk, h2load), and the plumbing
# (curl, ip, openssl, taskset). It also builds the Go gRPC benchmark backend into the cache folder.
#
# Idempotent and quiet: it prints only when it has to install or build something. Services are never
# started through systemd; every test and benchmark starts and stops its own processes.
# Nothing here downloads prebuilt binaries: Debian packages, the Go module proxy and npm only.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache_dir="${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}"
bin_dir="$cache_dir/bin"

# Debian package -> one command it provides (the check that it is really usable).
declare -A provides=(
  [redis-server]=redis-server
  [nginx]=nginx
  [haproxy]=haproxy
  [wrk]=wrk
  [nghttp2-client]=h2load
  [curl]=curl
  [iproute2]=ip
  [openssl]=openssl
  [util-linux]=taskset
  [umoci]=umoci
)

missing=()
for pkg in "${!provides[@]}"; do
  if ! command -v "${provides[$pkg]}" >/dev/null 2>&1 && ! [ -x "/usr/sbin/${provides[$pkg]}" ]; then
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup-system: installing ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  # Another apt/dpkg run (a parallel setup) holds the lock: wait for it instead of failing.
  apt_opts=(-o DPkg::Lock::Timeout=300)
  "${sudo_cmd[@]}" apt-get "${apt_opts[@]}" update -qq
  # policy-rc.d 101 keeps the packages' maintainer scripts from starting nginx/redis/haproxy services.
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee "$policy" >/dev/null
    "${sudo_cmd[@]}" chmod +x "$policy"
    created_policy=1
  fi
  status=0
  "${sudo_cmd[@]}" apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
  if [ "$created_policy" -eq 1 ]; then "${sudo_cmd[@]}" rm -f "$policy"; fi
  if [ "$status" -ne 0 ]; then
    echo "setup-system: apt-get install failed ($status)" >&2
    exit "$status"
  fi
fi

# The gRPC benchmark backend (grpc-go, health service): built from bench/grpc-backend with Go.
# Only `bench/run.ts` uses it (no test does), so a failed build warns instead of failing the setup.
# Go's module and build caches stay in their defaults under $HOME, outside the repository.
go_bin="$(command -v go || true)"
if [ -z "$go_bin" ] && [ -x /usr/local/go/bin/go ]; then go_bin=/usr/local/go/bin/go; fi
src_dir="$repo_root/bench/grpc-backend"
target="$bin_dir/bench-grpc-backend"
if [ -n "$go_bin" ] && [ -d "$src_dir" ]; then
  stamp="$(cat "$src_dir/go.mod" "$src_dir/go.sum" "$src_dir"/*.go | sha256sum | cut -c1-16)"
  if [ ! -x "$target" ] || [ "$(cat "$target.stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "setup-system: building $target"
    mkdir -p "$bin_dir"
    # Build beside the target and rename: a parallel setup never sees a half-written binary.
    tmp="$target.tmp.$$"
    if (cd "$src_dir" && "$go_bin" build -trimpath -o "$tmp" .); then
      mv -f "$tmp" "$target"
      echo "$stamp" >"$target.stamp"
    else
      rm -f "$tmp"
      echo "setup-system: WARNING: building the gRPC benchmark backend failed; bench/run.ts will report its gRPC suite as failed" >&2
    fi
  fi
elif [ -z "$go_bin" ]; then
  echo "setup-system: WARNING: go not found; the gRPC benchmark backend is not built" >&2
fi
