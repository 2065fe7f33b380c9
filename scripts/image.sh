#!/usr/bin/env bash
# Builds the installer's OCI image: the executable, with `cni install` as its entry point
# (deploy/kubernetes runs it as a DaemonSet). No registry is needed: the base is made from this
# machine's own files, the C library and dynamic loader the executable links against (ldd), on
# an empty (scratch) image. podman builds it into its storage (CONTAINERS_STORAGE_CONF is
# honoured, as for any podman command).
# Usage: scripts/image.sh [--no-build] [--tag REF] [--archive FILE]
#   --no-build      use the executable already in $CNI_DIST (default dist) instead of building
#   --tag REF       image reference (default localhost/cni-ts:<package version>)
#   --archive FILE  also save the image as an OCI archive (for ctr images import, kind load ...)
set -euo pipefail
cd "$(dirname "$0")/.."
dist=${CNI_DIST:-dist}
version=$(node -p 'require("./package.json").version')
tag=localhost/cni-ts:$version
build=yes
archive=""
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=no; shift ;;
    --tag) tag=$2; shift 2 ;;
    --archive) archive=$2; shift 2 ;;
    *) echo "usage: scripts/image.sh [--no-build] [--tag REF] [--archive FILE]" >&2; exit 2 ;;
  esac
done
if ! command -v podman >/dev/null; then
  echo "image: podman is not installed: run scripts/setup.sh" >&2
  exit 1
fi
[ "$build" = no ] || npm run --silent build
if [ ! -x "$dist/cni" ]; then
  echo "image: $dist/cni not found: run npm run build first" >&2
  exit 1
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
rootfs=$stage/rootfs
install -D -m 0755 "$dist/cni" "$rootfs/usr/local/bin/cni"
# Each library at the path the executable looks for it (the loader's path is built into it),
# copied from wherever that path leads on this machine.
for lib in $(ldd "$dist/cni" | grep -o '/[^ ]*'); do
  install -D -m 0755 "$(readlink -f "$lib")" "$rootfs$lib"
done

cat > "$stage/Containerfile" <<CONTAINERFILE
FROM scratch
COPY rootfs/ /
LABEL org.opencontainers.image.title="cni-ts" \\
      org.opencontainers.image.version="$version" \\
      org.opencontainers.image.description="CNI plugins in TypeScript; installs them on a node (cni install --help)"
ENTRYPOINT ["/usr/local/bin/cni", "install"]
CONTAINERFILE
podman build --quiet --tag "$tag" --file "$stage/Containerfile" "$stage" >/dev/null
size=$(podman image inspect --format '{{.Size}}' "$tag")
echo "$tag: $((size / 1000000)) MB ($size bytes): $(cd "$rootfs" && find . -type f | sed 's#^\./#/#' | sort | tr '\n' ' ')"
if [ -n "$archive" ]; then
  rm -f "$archive"
  podman save --quiet --format oci-archive --output "$archive" "$tag"
  echo "saved as $archive ($(du -h "$archive" | cut -f1))"
fi
