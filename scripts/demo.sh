#!/usr/bin/env bash
# The main job: install what is needed, build the suite, and show it wiring real network
# namespaces together (scripts/demo.ts). With --nodes N, a cluster of N nodes instead
# (scripts/cluster/demo.ts: nodes are namespaces on an underlay, the plugins installed on each by
# cni install). Run as root on a Linux machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run --silent build
for arg in "$@"; do
  case "$arg" in
    --nodes | --nodes=*) exec node_modules/.bin/bun scripts/cluster/demo.ts "$@" ;;
  esac
done
exec node_modules/.bin/bun scripts/demo.ts "$@"
