#!/usr/bin/env bash
# Builds the release tarball, laid out like upstream's cni-plugins-linux-<arch>-<version>.tgz:
# one file per plugin name (hard links to one executable, so the archive holds it once), plus
# README.md and the dhcp daemon's systemd units (systemd/cni-dhcp.service and .socket). Output: $CNI_DIST/release/cni-ts-linux-<arch>-v<version>.tgz (CNI_DIST defaults to dist).
set -euo pipefail
cd "$(dirname "$0")/.."
dist=${CNI_DIST:-dist}
# --no-build packs what is already built (tests use it: rebuilding would swap the executable
# under plugins that other tests are running).
[ "${1:-}" = "--no-build" ] || npm run --silent build
version=$(node -p 'require("./package.json").version')
case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64) arch=arm64 ;;
  *) arch=$(uname -m) ;;
esac
out=$dist/release/cni-ts-linux-$arch-v$version.tgz
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -a "$dist/bin/." "$stage/"
cp README.md "$stage/"
mkdir -p "$stage/systemd"
cp packaging/systemd/cni-dhcp.service packaging/systemd/cni-dhcp.socket "$stage/systemd/"
mkdir -p "$dist/release"
tar -C "$stage" --owner=0 --group=0 -czf "$out" .
echo "$out ($(du -h "$out" | cut -f1)): $(tar -tzf "$out" | grep -v '/$' | sed 's#^\./##' | tr '\n' ' ')"
