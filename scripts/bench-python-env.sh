#!/usr/bin/env bash
# The Python side of `npm run bench -- pg`: dlt (https://dlthub.com) with its pyarrow backend, in a
# private venv at <repo>/.services/bench-venv, so the bench can run the same PostgreSQL → parquet
# load through dlt (bench/dlt/dlt_load.py) and print our ratio to it.
#   - dlt[parquet,filesystem,sql_database]: the pipeline, its parquet writer, the filesystem
#     destination and the sql_database/sql_table source
#   - sqlalchemy 2.0.x + psycopg2-binary: what sql_table reads PostgreSQL through. Not 2.1: there
#     Float no longer derives from Numeric, and dlt 1.31 then cannot map `double precision`
#     (it warns and infers the type from the data); 2.1 also maps a bare postgresql:// to psycopg 3.
#   - pyarrow + numpy: the sql_table backend="pyarrow" turns the fetched rows into Arrow tables
# (connectorx is not needed: it is only for backend="connectorx", which the bench does not use.)
# Idempotent: does nothing when the venv already has everything. Records the installed versions
# in .services/bench-venv/versions.txt.
#
# Usage: scripts/bench-python-env.sh   (prints one progress line when it installs; exits non-zero
# with one line on stderr when dlt cannot be installed here)
# CF_PYTHON picks the base interpreter (default: python3 on PATH, else /usr/bin/python3);
# BENCH_PYTHON_ENV_TIMEOUT (default 900s) bounds the install.
set -euo pipefail

SELF="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)/$(basename -- "${BASH_SOURCE[0]}")"
ROOT="$(dirname -- "$(dirname -- "$SELF")")"
STATE="$ROOT/.services"
VENV="$STATE/bench-venv"
LOG="$STATE/bench-python-env.log"
TIMEOUT="${BENCH_PYTHON_ENV_TIMEOUT:-900}"
REQUIREMENTS=('dlt[parquet,filesystem,sql_database]>=1.0' 'sqlalchemy>=2.0,<2.1' 'psycopg2-binary' pyarrow numpy)
IMPORTS='import dlt, dlt.sources.sql_database, dlt.destinations, sqlalchemy, psycopg2, pyarrow, pyarrow.parquet, numpy'

# One clear line, and the last lines of the log (when there is one) to say why.
die() {
  if [[ -n ${2:-} && -s $LOG ]]; then
    printf '[bench-python-env] --- last lines of %s ---\n' "$LOG" >&2
    tail -n 15 -- "$LOG" | sed 's/^/  /' >&2
  fi
  printf '[bench-python-env] error: %s\n' "$1" >&2
  exit 1
}
now() { date +%s%N; }
since() { local ms=$((($(date +%s%N) - $1) / 1000000)); printf '%d.%ds' $((ms / 1000)) $((ms % 1000 / 100)); }

# The requirement list is stored with the venv: a changed list reinstalls.
stamp() { printf '%s\n' "${REQUIREMENTS[@]}"; }

satisfied() {
  [[ -x $VENV/bin/python && -f $VENV/.cf-requirements ]] &&
    [[ $(cat "$VENV/.cf-requirements") == "$(stamp)" ]] &&
    "$VENV/bin/python" -c "$IMPORTS" >/dev/null 2>&1
}

base_python() {
  local candidate
  for candidate in "${CF_PYTHON:-}" python3 /usr/bin/python3; do
    [[ -n $candidate ]] || continue
    command -v "$candidate" >/dev/null 2>&1 || continue
    "$candidate" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 9))' >/dev/null 2>&1 || continue
    command -v "$candidate"
    return 0
  done
  return 1
}

mkdir -p -- "$STATE"
# Serialise concurrent calls.
exec 8>>"$STATE/.bench-python-env.lock"
flock -w "$TIMEOUT" 8 || die "another scripts/bench-python-env.sh is still running (lock $STATE/.bench-python-env.lock)"

satisfied && exit 0

t0=$(now)
python=$(base_python) ||
  die "no usable Python >= 3.9 with venv/ensurepip (tried \$CF_PYTHON, python3, /usr/bin/python3); on Debian: apt-get install -y python3-venv"
# One progress line: the start now, the outcome appended when done. It goes to stderr so that a
# caller reading stdout (the bench) is not disturbed.
printf '[bench-python-env] installing %s into %s with %s (one-time) ... ' "${REQUIREMENTS[*]}" "${VENV#"$ROOT"/}" \
  "$("$python" --version 2>&1)" >&2
{
  # A venv whose base interpreter is gone (or a half-made one) is rebuilt.
  if ! "$VENV/bin/python" -c 'pass' >/dev/null 2>&1; then
    rm -rf -- "$VENV"
    "$python" -m venv "$VENV"
  fi
  rm -f -- "$VENV/.cf-requirements"
  timeout "$TIMEOUT" "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input --progress-bar off \
    --upgrade "${REQUIREMENTS[@]}"
} >"$LOG" 2>&1 || {
  echo >&2
  die "pip could not install dlt and its pyarrow backend here (full log: $LOG)" log
}
"$VENV/bin/python" -c "$IMPORTS" >>"$LOG" 2>&1 || {
  echo >&2
  die "installed dlt but it does not import (full log: $LOG)" log
}
{
  echo "# Written by scripts/bench-python-env.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "python==$("$VENV/bin/python" -c 'import platform; print(platform.python_version())')"
  "$VENV/bin/python" -m pip list --disable-pip-version-check --format=freeze 2>/dev/null
} >"$VENV/versions.txt"
stamp >"$VENV/.cf-requirements"
printf 'done in %s (%s)\n' "$(since "$t0")" \
  "$(grep -iE '^(dlt|sqlalchemy|psycopg2-binary|pyarrow|numpy|fsspec)==' "$VENV/versions.txt" | paste -sd ' ')" >&2
