#!/usr/bin/env bash
# The main job on embedded defaults (`npm run demo`): build the CLI, then `connector-factory demo` —
# an embedded PostgreSQL with changing orders, a CDC connector created from one sentence, deployed
# locally, landing Delta rows in ./lake. Ctrl-C stops it. Extra arguments go to the command.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
npm run --silent build
exec node packages/cli/bin/connector-factory.js demo "$@"
