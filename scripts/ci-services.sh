#!/usr/bin/env bash
# Makes sure the services the test suite needs are installed and answering on loopback:
# PostgreSQL on 127.0.0.1:5432 (user postgres), Redis on 127.0.0.1:6379, and Debian's chromium
# for browser tests. Idempotent: when everything is already up (the normal case) it only checks.
#
# If password auth had to be enabled for user postgres, the password is "postgres"; the line
# "ci-services: TEST_DATABASE_URL=..." says so, and when CI_SERVICES_ENV_FILE names a file, the
# matching `export` lines are appended to it so a caller (.ci/run) can source them.
set -euo pipefail

PG_HOST=127.0.0.1
PG_PORT="${CI_PG_PORT:-5432}"
REDIS_HOST=127.0.0.1
REDIS_PORT=6379
TEST_DB=pdeck_test
WAIT_SECONDS=30

log() { printf 'ci-services: %s\n' "$*"; }
warn() { printf 'ci-services: WARNING: %s\n' "$*" >&2; }
die() { printf 'ci-services: ERROR: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" -eq 0 ]; then
  as_root() { "$@"; }
elif command -v sudo >/dev/null 2>&1; then
  as_root() { sudo "$@"; }
else
  as_root() { die "need root (or sudo) for: $*"; }
fi

# Run a command as the postgres OS user from a directory it can read.
as_postgres() {
  if [ "$(id -u)" -eq 0 ] && command -v runuser >/dev/null 2>&1; then
    (cd / && runuser -u postgres -- "$@")
  elif [ "$(id -u)" -eq 0 ]; then
    (cd / && su postgres -s /bin/sh -c "$(printf '%q ' "$@")")
  else
    (cd / && sudo -u postgres "$@")
  fi
}

# apt/dpkg chatter goes to a log; its tail is shown only when a command fails.
APT_UPDATED=0
APT_LOG="$(mktemp)"
trap 'rm -f "$APT_LOG"' EXIT
apt_run() {
  if ! as_root env DEBIAN_FRONTEND=noninteractive "$@" >"$APT_LOG" 2>&1; then
    warn "'$*' failed; last lines:"
    tail -n 25 "$APT_LOG" >&2
    return 1
  fi
}
apt_install() {
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update"
    apt_run apt-get update -qq || return 1
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  apt_run apt-get install -y -qq --no-install-recommends "$@" || return 1
}

# --- packages ----------------------------------------------------------------------------------
if command -v pg_ctlcluster >/dev/null 2>&1; then
  log "postgresql: installed"
else
  apt_install postgresql postgresql-client
fi

if command -v redis-server >/dev/null 2>&1; then
  log "redis-server: installed"
else
  apt_install redis-server redis-tools
fi

if [ -x /usr/bin/chromium ]; then
  log "chromium: installed (/usr/bin/chromium)"
else
  # Only browser tests need it; everything else can run without it.
  if apt_install chromium && [ -x /usr/bin/chromium ]; then
    log "chromium: installed (/usr/bin/chromium)"
  else
    warn "chromium install failed; browser tests will not be able to run"
  fi
fi

# --- postgres ----------------------------------------------------------------------------------
pg_up() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" >/dev/null 2>&1; }

if pg_up; then
  log "postgres: already accepting connections on $PG_HOST:$PG_PORT"
else
  cluster_version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -z "$cluster_version" ] || [ ! -d "/etc/postgresql/$cluster_version/main" ]; then
    server_version="$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1 || true)"
    [ -n "$server_version" ] || die "no PostgreSQL server binaries under /usr/lib/postgresql"
    log "postgres: creating cluster $server_version/main on port $PG_PORT"
    as_root pg_createcluster --port "$PG_PORT" "$server_version" main
    cluster_version="$server_version"
  fi
  log "postgres: starting cluster $cluster_version/main"
  if ! as_root pg_ctlcluster --skip-systemctl-redirect "$cluster_version" main start; then
    warn "pg_ctlcluster start returned non-zero (already running on another address?); waiting anyway"
  fi
fi

# --- redis -------------------------------------------------------------------------------------
redis_up() { [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null || true)" = "PONG" ]; }

if redis_up; then
  log "redis: already answering PONG on $REDIS_HOST:$REDIS_PORT"
else
  log "redis: starting on $REDIS_HOST:$REDIS_PORT"
  as_root mkdir -p /var/log/redis /var/lib/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" \
    --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi

# --- wait for both -----------------------------------------------------------------------------
log "waiting (up to ${WAIT_SECONDS}s) for postgres and redis"
deadline=$((SECONDS + WAIT_SECONDS))
until pg_up && redis_up; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    pg_up || warn "postgres is not accepting connections on $PG_HOST:$PG_PORT"
    redis_up || warn "redis does not answer PING on $REDIS_HOST:$REDIS_PORT"
    die "services did not come up within ${WAIT_SECONDS}s"
  fi
  sleep 1
done
log "postgres and redis are answering"

# --- postgres access over TCP ------------------------------------------------------------------
# -w: never prompt for a password (a prompt would hang CI).
pg_sql() { psql -w -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U postgres "$@"; }

PG_PASSWORD_NEEDED=0
if err="$(pg_sql -d postgres -tAc 'select 1' 2>&1 >/dev/null)"; then
  log "postgres: user postgres can connect over TCP${PGPASSWORD:+ (with the given PGPASSWORD)}"
elif [ -n "${PGPASSWORD:-}" ]; then
  die "cannot connect as postgres to $PG_HOST:$PG_PORT with the PGPASSWORD given: $err"
elif printf '%s' "$err" | grep -qiE 'password|authentication failed'; then
  log "postgres: TCP login needs a password; setting the postgres user's password to 'postgres'"
  as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" -d postgres -c "ALTER USER postgres WITH PASSWORD 'postgres'"
  export PGPASSWORD=postgres
  if err="$(pg_sql -d postgres -tAc 'select 1' 2>&1 >/dev/null)"; then
    PG_PASSWORD_NEEDED=1
    log "postgres: password login works"
  else
    die "still cannot connect as postgres over TCP: $err"
  fi
else
  die "cannot connect as postgres to $PG_HOST:$PG_PORT: $err"
fi

if [ "$PG_PASSWORD_NEEDED" -eq 1 ]; then
  log "TEST_DATABASE_URL=postgres://postgres:postgres@$PG_HOST:$PG_PORT/postgres (password 'postgres')"
  if [ -n "${CI_SERVICES_ENV_FILE:-}" ]; then
    {
      echo "export PGPASSWORD=postgres"
      echo "export CI_PG_PASSWORD=postgres"
    } >>"$CI_SERVICES_ENV_FILE"
  fi
fi

# --- test database -----------------------------------------------------------------------------
if [ "$(pg_sql -d postgres -tAc "select 1 from pg_database where datname = '$TEST_DB'")" = "1" ]; then
  log "postgres: database $TEST_DB exists"
else
  log "postgres: creating database $TEST_DB"
  pg_sql -d postgres -c "CREATE DATABASE $TEST_DB"
fi

log "ready: postgres $PG_HOST:$PG_PORT, redis $REDIS_HOST:$REDIS_PORT"
