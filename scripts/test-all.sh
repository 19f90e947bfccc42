#!/usr/bin/env bash
# The full test suite, as CI and developers run it (`npm test`): build, lint, check the exported JSON
# Schemas, start the real services the tests need, run every test, stop the services, and print one
# closing line "tests: N passed, N failed, N skipped".
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

step() { printf '\n[test] %s\n' "$*"; }

step "build"
npm run --silent build
step "lint and format check"
npx eslint .
npx prettier --check . >/dev/null || { npx prettier --check . ; exit 1; }
step "JSON Schemas up to date"
node scripts/export-json-schema.mjs --check

step "start services"
bash scripts/services.sh start
bash scripts/s3-server.sh start
trap 'bash scripts/services.sh stop >/dev/null 2>&1 || true; bash scripts/s3-server.sh stop >/dev/null 2>&1 || true' EXIT
set -a
# shellcheck disable=SC1091
source .services/env
# shellcheck disable=SC1091
source .services/s3.env
set +a
# The independent readers (deltalake, pyarrow, fastavro, duckdb) live in the venv s3-server.sh prepared.
export LAKE_READER_PYTHON="$root/.services/venv/bin/python"

step "tests (quick + services)"
mkdir -p .tmp
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest-results.json || status=$?
node -e '
  const r = require(process.argv[1]);
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
  if (r.numTotalTests === 0) { console.error("no tests ran"); process.exit(1); }
' "$root/.tmp/vitest-results.json" || status=1
exit "$status"
