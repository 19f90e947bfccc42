# Sourced by scripts/python-env.sh and scripts/bench-python-env.sh: one way to keep a private Python
# venv with a list of PyPI packages, idempotent and serialised.
#
#   ensure_venv <label> <venv dir> <timeout s> <imports check> <requirement>...
#
# Does nothing when the venv already has exactly these requirements and they import; otherwise
# (re)installs them, printing one progress line on stderr, and records the versions in
# <venv>/versions.txt. Fails with one line (and the log's tail) when pip cannot install them.
# CF_PYTHON picks the base interpreter (default: python3 on PATH, else /usr/bin/python3).

ensure_venv() {
  local label=$1 venv=$2 timeout=$3 imports=$4
  shift 4
  local requirements=("$@")
  local state log python t0
  state=$(dirname -- "$venv")
  log="$state/$label.log"
  mkdir -p -- "$state"

  _venv_die() {
    if [[ -n ${2:-} && -s $log ]]; then
      printf '[%s] --- last lines of %s ---\n' "$label" "$log" >&2
      tail -n 20 -- "$log" | sed 's/^/  /' >&2
    fi
    printf '[%s] error: %s\n' "$label" "$1" >&2
    exit 1
  }
  # The requirement list is stored with the venv: a changed list reinstalls.
  local stamp
  stamp=$(printf '%s\n' "${requirements[@]}")

  # Serialise concurrent calls (several test services may ask at once).
  exec 8>>"$state/.$label.lock"
  flock -w "$timeout" 8 || _venv_die "another $label is still running (lock $state/.$label.lock)"

  if [[ -x $venv/bin/python && -f $venv/.cf-requirements && $(cat "$venv/.cf-requirements") == "$stamp" ]] &&
    "$venv/bin/python" -c "$imports" >/dev/null 2>&1; then
    return 0
  fi

  python=""
  local candidate
  for candidate in "${CF_PYTHON:-}" python3 /usr/bin/python3; do
    [[ -n $candidate ]] && command -v "$candidate" >/dev/null 2>&1 || continue
    "$candidate" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 9))' >/dev/null 2>&1 || continue
    python=$(command -v "$candidate")
    break
  done
  [[ -n $python ]] ||
    _venv_die "no usable Python >= 3.9 with venv/ensurepip (tried \$CF_PYTHON, python3, /usr/bin/python3); on Debian: apt-get install -y python3-venv"

  t0=$(date +%s%N)
  # One progress line on stderr (callers may read stdout): the start now, the outcome when done.
  printf '[%s] installing %s into %s with %s (one-time) ... ' "$label" "${requirements[*]}" "$venv" "$("$python" --version 2>&1)" >&2
  {
    # A venv whose base interpreter is gone (or a half-made one) is rebuilt.
    if ! "$venv/bin/python" -c 'pass' >/dev/null 2>&1; then
      rm -rf -- "$venv"
      "$python" -m venv "$venv"
    fi
    rm -f -- "$venv/.cf-requirements"
    timeout "$timeout" "$venv/bin/python" -m pip install --disable-pip-version-check --no-input --progress-bar off \
      --upgrade "${requirements[@]}"
  } >"$log" 2>&1 || {
    echo >&2
    _venv_die "pip could not install ${requirements[*]} here (full log: $log)" log
  }
  "$venv/bin/python" -c "$imports" >>"$log" 2>&1 || {
    echo >&2
    _venv_die "installed the packages but they do not import (full log: $log)" log
  }
  {
    echo "# Written by $label on $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "python==$("$venv/bin/python" -c 'import platform; print(platform.python_version())')"
    "$venv/bin/python" -m pip list --disable-pip-version-check --format=freeze 2>/dev/null
  } >"$venv/versions.txt"
  printf '%s\n' "$stamp" >"$venv/.cf-requirements"
  local ms=$((($(date +%s%N) - t0) / 1000000))
  printf 'done in %d.%ds\n' $((ms / 1000)) $((ms % 1000 / 100)) >&2
}
