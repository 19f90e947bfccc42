#!/usr/bin/env bash
# An S3-compatible test server for Connector Factory: moto in server mode
# (moto[server] from PyPI, in the venv scripts/python-env.sh makes), on
# loopback with a fixed non-default port, detached, all state in
# <repo>/.services/s3/. Data lives in memory: a restart empties every bucket.
# moto supports conditional writes (PutObject with If-None-Match: * answers
# 412 when the key exists), which the lake's commit protocol relies on.
#
# Usage: scripts/s3-server.sh start|stop|status
# `start` is idempotent and writes .services/s3.env (`source .services/s3.env`
# for AWS_ENDPOINT_URL_S3 and throwaway credentials; moto accepts any). `stop`
# removes it. `status` exits 3 when the server is stopped. S3_SERVER_TIMEOUT
# (default: SERVICES_TIMEOUT, else 60s) bounds every wait.
set -euo pipefail

SELF="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)/$(basename -- "${BASH_SOURCE[0]}")"
ROOT="$(dirname -- "$(dirname -- "$SELF")")"
STATE="$ROOT/.services"
S3_DIR="$STATE/s3"
PID_FILE="$S3_DIR/moto.pid"
LOG="$S3_DIR/moto.log"
ENV_FILE="$STATE/s3.env"
VENV="$STATE/venv"
HOST=127.0.0.1
PORT=45459
TIMEOUT="${S3_SERVER_TIMEOUT:-${SERVICES_TIMEOUT:-60}}"

log() { printf '[s3-server] %s\n' "$*"; }
die() { printf '[s3-server] error: %s\n' "$*" >&2; exit 1; }
now() { date +%s%N; }
since() { local ms=$((($(date +%s%N) - $1) / 1000000)); printf '%d.%ds' $((ms / 1000)) $((ms % 1000 / 100)); }

# Die with the tail of the server log, so CI output shows *why* it failed.
die_log() {
  if [[ -s $LOG ]]; then
    printf '[s3-server] --- last lines of %s ---\n' "$LOG" >&2
    tail -n 25 -- "$LOG" | sed 's/^/  /' >&2
  fi
  die "$1 (full log: $LOG)"
}

# Start a command detached (own session, cwd DIR, stdio to the log) with only
# stdin/stdout/stderr open: it must not inherit our lock fd or a pipe the caller
# (a CI runner) waits on. One fork, then exec: $! is the server's own pid.
detach() { # dir command...
  local dir=$1
  shift
  (
    cd -- "$dir"
    for fd in "/proc/$BASHPID"/fd/*; do
      fd=${fd##*/}
      if ((fd > 2)); then eval "exec $fd>&-"; fi
    done
    exec setsid "$@" </dev/null >>"$LOG" 2>&1
  ) &
  DETACHED_PID=$!
}

# A zombie (exited, not yet reaped by PID 1) counts as gone.
alive() {
  local stat
  [[ $1 =~ ^[0-9]+$ ]] && stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

wait_exit() { # pid timeout_s
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    alive "$1" || return 0
    sleep 0.1
  done
  return 1
}

# Our server: the pid file names a live moto_server process that runs in
# .services/s3 (not a stale pid reused by something else, nor another clone's).
moto_pid() {
  local pid cwd
  pid=$(head -n1 "$PID_FILE" 2>/dev/null) || return 1
  alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q moto_server || return 1
  cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || return 1
  [[ $cwd == "$S3_DIR" ]] || return 1
  printf '%s' "$pid"
}
moto_running() { moto_pid >/dev/null; }

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null; }

# Who listens on a port ("pid N (comm, in DIR)"), from /proc only.
port_owner() {
  local hex inode fd pid
  hex=$(printf ':%04X' "$1")
  inode=$(awk -v p="$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { print $10; exit }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null || true)
  [[ -n $inode ]] || return 0
  fd=$(find /proc/[0-9]*/fd -maxdepth 1 -lname "socket:?$inode?" -print -quit 2>/dev/null || true)
  [[ -n $fd ]] || return 0
  pid=${fd#/proc/}
  pid=${pid%%/*}
  printf 'pid %s (%s, in %s)' "$pid" "$(cat "/proc/$pid/comm" 2>/dev/null || echo '?')" \
    "$(readlink "/proc/$pid/cwd" 2>/dev/null || echo '?')"
}

# The server answers HTTP (moto's own API), not just accepts connections.
http_ready() {
  "$VENV/bin/python" - "http://$HOST:$PORT/moto-api/data.json" <<'EOF' >/dev/null 2>&1
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=2) as response:
    sys.exit(0 if response.status == 200 else 1)
EOF
}

write_env() {
  cat >"$ENV_FILE.tmp" <<EOF
# Written by scripts/s3-server.sh: the local S3-compatible test server (moto). Use: source .services/s3.env
export AWS_ENDPOINT_URL_S3=http://$HOST:$PORT AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
EOF
  mv -f -- "$ENV_FILE.tmp" "$ENV_FILE"
}

s3_start() {
  local t0 pid deadline owner
  t0=$(now)
  if moto_running; then
    write_env
    log "moto: already running on $HOST:$PORT"
    return 0
  fi
  if port_open "$PORT"; then
    owner=$(port_owner "$PORT")
    die "moto: port $HOST:$PORT is already in use${owner:+ by $owner}, not by this checkout ($ROOT); if it is another clone's server, stop it with that clone's scripts/s3-server.sh stop"
  fi
  bash "$ROOT/scripts/python-env.sh"
  [[ -x $VENV/bin/moto_server ]] || die "moto: $VENV/bin/moto_server is missing after scripts/python-env.sh"
  rm -f -- "$PID_FILE"
  : >"$LOG"
  # Detached so it outlives this script; its cwd (the state dir) identifies the
  # instance. Run through the venv's python: a moved checkout keeps working.
  detach "$S3_DIR" "$VENV/bin/python" "$VENV/bin/moto_server" -H "$HOST" -p "$PORT"
  pid=$DETACHED_PID
  echo "$pid" >"$PID_FILE"
  deadline=$(($(date +%s) + TIMEOUT))
  while true; do
    http_ready && break
    alive "$pid" || die_log "moto: moto_server exited during startup"
    if (($(date +%s) >= deadline)); then
      kill -TERM "$pid" 2>/dev/null || true
      die_log "moto: not ready within ${TIMEOUT}s"
    fi
    sleep 0.2
  done
  moto_running || die_log "moto: answers on $HOST:$PORT but pid $pid is not the server"
  write_env
  log "moto: started on $HOST:$PORT ($(since "$t0"))"
}

s3_stop() {
  local pid t0
  t0=$(now)
  rm -f -- "$ENV_FILE"
  if ! pid=$(moto_pid); then
    rm -f -- "$PID_FILE"
    log "moto: not running"
    return 0
  fi
  kill -TERM "$pid"
  if ! wait_exit "$pid" "$TIMEOUT"; then
    kill -KILL "$pid" 2>/dev/null || true
    wait_exit "$pid" 10 || die_log "moto: pid $pid did not stop"
    log "moto: had to be killed (SIGKILL)"
  fi
  rm -f -- "$PID_FILE"
  log "moto: stopped ($(since "$t0"))"
}

s3_status() {
  local pid
  if pid=$(moto_pid); then
    echo "moto (S3): running on $HOST:$PORT (pid $pid, log ${LOG#"$ROOT"/})"
  else
    echo "moto (S3): stopped (port $PORT$(port_open "$PORT" && echo ", but in use by another process"))"
    return 3
  fi
}

usage() {
  sed -n '/^# Usage:/,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p;}' "$SELF"
}

lock() { # serialise concurrent start/stop
  exec 9>>"$S3_DIR/.lock"
  flock -w $((TIMEOUT * 3)) 9 || die "another scripts/s3-server.sh is still running (lock $S3_DIR/.lock)"
}

mkdir -p -- "$S3_DIR"
case ${1:-} in
  start)
    lock
    s3_start
    ;;
  stop)
    lock
    s3_stop
    ;;
  status) s3_status ;;
  -h | --help | help) usage ;;
  *)
    usage >&2
    exit 2
    ;;
esac
