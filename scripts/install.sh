#!/usr/bin/env bash
# Installs the built plugins where runtimes look for them: one copy of the executable, and a hard
# link to it for every plugin name (and cnitool), with `cni install --no-conflist`. Existing files
# of those names are replaced, so this is the drop-in switch from the reference plugins; other
# files in the directory are left alone.
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
# The plugins, by the installer every node uses (lib/install): atomic, and names that already
# hold this build are left alone.
"$dist/cni" install --no-conflist --bin-dir "$dest"
# cnitool is no plugin (runtimes never run it), but users expect it beside them.
if [ ! "$dest/cnitool" -ef "$dest/bridge" ]; then
  ln -f "$dest/bridge" "$dest/.cnitool.new"
  mv -f "$dest/.cnitool.new" "$dest/cnitool"
fi
