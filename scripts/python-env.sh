#!/usr/bin/env bash
# The Python tools the tests use, in a private venv at <repo>/.services/venv:
#   - moto[server]: an S3-compatible server (scripts/s3-server.sh)
#   - deltalake, pyarrow, fastavro, duckdb, pandas: independent lake readers
#     (test/readers/read_lake.py)
# Idempotent: does nothing when the venv already has everything. Records the
# installed versions in .services/venv/versions.txt.
#
# Usage: scripts/python-env.sh   (prints one progress line when it installs)
# CF_PYTHON picks the base interpreter (default: python3 on PATH, else
# /usr/bin/python3); PYTHON_ENV_TIMEOUT (default 900s) bounds the install.
set -euo pipefail

SELF="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)/$(basename -- "${BASH_SOURCE[0]}")"
ROOT="$(dirname -- "$(dirname -- "$SELF")")"
STATE="$ROOT/.services"
VENV="$STATE/venv"
LOG="$STATE/python-env.log"
TIMEOUT="${PYTHON_ENV_TIMEOUT:-900}"
# moto answers PutObject with If-None-Match: * by 412 when the key exists (conditional
# writes, which the S3 store's putIfAbsent relies on); verified with moto 5.2.5.
REQUIREMENTS=('moto[server]>=5.2' deltalake pyarrow fastavro cramjam 'backports.zstd' duckdb pandas)
IMPORTS='import moto, moto.server, flask, deltalake, pyarrow, pyarrow.dataset, pyarrow.fs, fastavro, cramjam, backports.zstd, duckdb, pandas'

die() { printf '[python-env] error: %s\n' "$*" >&2; exit 1; }
die_log() {
  echo
  if [[ -s $LOG ]]; then
    printf '[python-env] --- last lines of %s ---\n' "$LOG" >&2
    tail -n 25 -- "$LOG" | sed 's/^/  /' >&2
  fi
  die "$1 (full log: $LOG)"
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
# Serialise concurrent calls (several test services may ask at once).
exec 8>>"$STATE/.python-env.lock"
flock -w "$TIMEOUT" 8 || die "another scripts/python-env.sh is still running (lock $STATE/.python-env.lock)"

satisfied && exit 0

t0=$(now)
python=$(base_python) ||
  die "no usable Python >= 3.9 with venv/ensurepip (tried \$CF_PYTHON, python3, /usr/bin/python3); on Debian: apt-get install -y python3-venv"
# One progress line: the start now, the outcome appended when done.
printf '[python-env] installing %s into %s with %s (one-time) ... ' "${REQUIREMENTS[*]}" "${VENV#"$ROOT"/}" \
  "$("$python" --version 2>&1)"
{
  # A venv whose base interpreter is gone (or a half-made one) is rebuilt.
  if ! "$VENV/bin/python" -c 'pass' >/dev/null 2>&1; then
    rm -rf -- "$VENV"
    "$python" -m venv "$VENV"
  fi
  rm -f -- "$VENV/.cf-requirements"
  timeout "$TIMEOUT" "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input --progress-bar off \
    --upgrade "${REQUIREMENTS[@]}"
} >"$LOG" 2>&1 || die_log "installing the Python packages failed"
"$VENV/bin/python" -c "$IMPORTS" >>"$LOG" 2>&1 || die_log "installed the Python packages but they do not import"
{
  echo "# Written by scripts/python-env.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "python==$("$VENV/bin/python" -c 'import platform; print(platform.python_version())')"
  "$VENV/bin/python" -m pip list --disable-pip-version-check --format=freeze 2>/dev/null
} >"$VENV/versions.txt"
stamp >"$VENV/.cf-requirements"
printf 'done in %s (%s)\n' "$(since "$t0")" \
  "$(grep -iE '^(moto|deltalake|pyarrow|fastavro|duckdb|pandas)==' "$VENV/versions.txt" | paste -sd ' ')"
