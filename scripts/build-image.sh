#!/usr/bin/env bash
# `npm run image`: builds Bulkhead's OCI image on this machine without Docker or a daemon, and writes
# it as an OCI archive (an OCI image layout in a tar: `podman load`, `skopeo copy oci-archive:...`,
# `crane push` all read it). The reference (registry/name:tag, tag = package.json version) comes from
# src/version.ts, the one place that defines it.
#
# Tool: umoci (Debian package), which builds and edits OCI images as plain files, unprivileged. The
# alternatives were heavier for this job: buildah/podman pull in a container runtime, storage drivers
# and networking to run RUN steps we do not need; mmdebstrap makes a whole Debian root (apt, dpkg,
# shell) we do not want in a proxy image.
#
# Contents, distroless-style (no shell, no package manager):
#  - the C/C++ runtime Node needs (libc6, libgcc-s1, libstdc++6), extracted from Debian packages
#    fetched with `apt-get download` (cached in ~/.cache/bulkhead/image-debs);
#  - Node itself, the machine's Node 20 (`command -v node`): Debian 12's nodejs is 18, and undici 7
#    needs Node >= 20.18.1;
#  - /app: package.json, bin/, src/ and the production dependencies only (`npm ls --omit=dev`);
#  - user 65532 (nonroot), entrypoint `node /app/bin/bulkhead.mjs`, TSX_DISABLE_CACHE so a read-only
#    root filesystem works, OCI labels with version and source.
# The Dockerfile builds the same layout for users with Docker.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
cache_dir="${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}"
deb_cache="$cache_dir/image-debs"
out_dir="${BULKHEAD_IMAGE_DIR:-$repo_root/.tmp/image}"

command -v umoci >/dev/null || { echo "build-image: umoci is missing; run bash scripts/setup-system.sh" >&2; exit 2; }
node_bin="$(command -v node)"

read -r version image source_url < <(node --import tsx -e \
  "import('./src/version.ts').then((m) => console.log(m.VERSION, m.IMAGE, m.SOURCE_URL))")
archive="$out_dir/bulkhead-$version.oci.tar"
revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)"

work="$(mktemp -d /tmp/bh-image.XXXXXX)"
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root/app" "$root/usr/local/bin" "$root/etc" "$root/tmp" "$deb_cache"
chmod 1777 "$root/tmp"

echo "build-image: runtime libraries from Debian packages"
debs=(libc6 libgcc-s1 libstdc++6)
(cd "$deb_cache" && for p in "${debs[@]}"; do
  v="$(apt-cache policy "$p" | awk '/Candidate:/ {print $2}')"
  ls "${p}_"*.deb >/dev/null 2>&1 && ls "${p}_${v//:/%3a}_"*.deb >/dev/null 2>&1 || apt-get -o APT::Sandbox::User=root download -q "$p" >/dev/null
done)
for p in "${debs[@]}"; do
  deb="$(ls -t "$deb_cache/${p}_"*.deb | head -1)"
  dpkg-deb -x "$deb" "$root"
done
rm -rf "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/locale" "$root/usr/share/lintian"

echo "build-image: node $("$node_bin" --version) and the application"
cp "$node_bin" "$root/usr/local/bin/node"
cp package.json tsconfig.json "$root/app/"
cp -r bin src "$root/app/"
# production dependencies only: top-level packages of the prod tree (nested ones come with them)
mapfile -t deps < <(npm ls --omit=dev --all --parseable 2>/dev/null | sed "s#^$repo_root/##" |
  grep -E '^node_modules/(@[^/]+/)?[^/]+$' | sort -u)
tar -C "$repo_root" -cf - "${deps[@]}" | tar -C "$root/app" -xf -

printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
mkdir -p "$root/home/nonroot" && chown 65532:65532 "$root/home/nonroot" 2>/dev/null || true

echo "build-image: OCI layout with umoci"
tag="$version"
umoci_opts=()
[ "$(id -u)" -eq 0 ] || umoci_opts=(--rootless)
umoci init --layout "$work/oci"
umoci new --image "$work/oci:$tag"
umoci unpack "${umoci_opts[@]}" --image "$work/oci:$tag" "$work/bundle" >/dev/null
cp -a "$root/." "$work/bundle/rootfs/"
umoci repack --image "$work/oci:$tag" "$work/bundle"
umoci config --image "$work/oci:$tag" \
  --os linux --architecture amd64 \
  --config.user 65532:65532 \
  --config.workingdir /app \
  --config.entrypoint /usr/local/bin/node --config.entrypoint /app/bin/bulkhead.mjs \
  --config.env NODE_ENV=production --config.env TSX_DISABLE_CACHE=1 \
  --config.env PATH=/usr/local/bin:/usr/bin:/bin \
  --config.label "org.opencontainers.image.title=bulkhead" \
  --config.label "org.opencontainers.image.version=$version" \
  --config.label "org.opencontainers.image.source=$source_url" \
  --config.label "org.opencontainers.image.revision=$revision" \
  --config.label "org.opencontainers.image.licenses=Apache-2.0" \
  --config.label "org.opencontainers.image.ref.name=$image" \
  --manifest.annotation "org.opencontainers.image.ref.name=$tag" \
  --manifest.annotation "org.opencontainers.image.version=$version"
umoci gc --layout "$work/oci"

mkdir -p "$out_dir"
tar -C "$work/oci" -cf "$archive.partial" .
mv "$archive.partial" "$archive"
echo "build-image: $image -> $archive ($(du -h "$archive" | cut -f1))"
