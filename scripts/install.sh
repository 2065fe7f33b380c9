#!/usr/bin/env bash
# Installs the built plugins where runtimes look for them: one copy of the executable, and a hard
# link to it for every plugin name (and cnitool). Existing files of those names are replaced, so
# this is the drop-in switch from the reference plugins; other files in the directory are left alone.
# Usage: scripts/install.sh [--dest /opt/cni/bin] [--dist dist]
set -euo pipefail
cd "$(dirname "$0")/.."
dest=/opt/cni/bin
dist=${CNI_DIST:-dist}
while [ $# -gt 0 ]; do
  case "$1" in
    --dest) dest=$2; shift 2 ;;
    --dist) dist=$2; shift 2 ;;
    *) echo "usage: scripts/install.sh [--dest DIR] [--dist DIR]" >&2; exit 2 ;;
  esac
done
if [ ! -x "$dist/cni" ]; then
  echo "install: $dist/cni not found: run npm run build first" >&2
  exit 1
fi
mkdir -p "$dest"
names=$(ls "$dist/bin")
first=""
for name in $names; do
  if [ -z "$first" ]; then
    # Copy to a temporary name and rename, so a runtime never executes a half-written file.
    install -m 0755 "$dist/cni" "$dest/.$name.new"
    mv -f "$dest/.$name.new" "$dest/$name"
    first=$name
  else
    ln -f "$dest/$first" "$dest/.$name.new"
    mv -f "$dest/.$name.new" "$dest/$name"
  fi
done
echo "installed $(echo $names | wc -w) plugins into $dest: $(echo $names)"
