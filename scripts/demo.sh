#!/usr/bin/env bash
# The main job: install what is needed, build the suite, and show it wiring real network
# namespaces together (scripts/demo.ts). Run as root on a Linux machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run --silent build
exec node_modules/.bin/bun scripts/demo.ts "$@"
