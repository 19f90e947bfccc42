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
npm run --silent lint
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
npx vitest run --project quick --project services --reporter=default --reporter=json --outputFile.json=.tmp/vitest-main.json || status=$?
step "end-to-end agent tests (build and run generated connectors)"
npx vitest run --project e2e --reporter=default --reporter=json --outputFile.json=.tmp/vitest-e2e.json || status=$?
step "fault tests (restart and kill services; run alone)"
npx vitest run --project faults --passWithNoTests --reporter=default --reporter=json --outputFile.json=.tmp/vitest-faults.json || status=$?
node -e '
  const fs = require("fs");
  const totals = { passed: 0, failed: 0, skipped: 0, total: 0 };
  for (const file of process.argv.slice(1)) {
    if (!fs.existsSync(file)) { totals.failed++; continue; }
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    totals.passed += r.numPassedTests; totals.failed += r.numFailedTests;
    totals.skipped += r.numPendingTests + r.numTodoTests; totals.total += r.numTotalTests;
  }
  console.log(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
  if (totals.total === 0) { console.error("no tests ran"); process.exit(1); }
  if (totals.failed > 0) process.exit(1);
' "$root/.tmp/vitest-main.json" "$root/.tmp/vitest-e2e.json" "$root/.tmp/vitest-faults.json" || status=1
exit "$status"
