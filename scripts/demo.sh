#!/usr/bin/env bash
# The main job on embedded defaults, until the `demo` command lands: build the CLI, validate the
# example manifests and list the provider registry.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
npm run --silent build
cf() { node packages/cli/bin/connector-factory.js "$@"; }
echo "== connector-factory validate examples/*.json"
cf validate examples/*.json
echo
echo "== connector-factory providers"
cf providers
