#!/usr/bin/env bash
# A throwaway PostgreSQL server on 127.0.0.1 for the service's storage tests.
#   bash scripts/postgres.sh [start]  install PostgreSQL (apt-get, only if missing), start the
#                                     server and print its URL (for TWIN_TEST_POSTGRES_URL)
#   bash scripts/postgres.sh stop     stop it (nothing to do if it is not running)
#   bash scripts/postgres.sh status   exit 0 if it is running, else non-zero
# Everything but the URL goes to stderr.
#   TWIN_PG_PORT (default 55432), TWIN_PG_DIR (default /tmp/twin-postgres)
set -euo pipefail
MODE="${1:-start}"
PORT="${TWIN_PG_PORT:-55432}"
DATA="${TWIN_PG_DIR:-/tmp/twin-postgres}"
DB=twin_test

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
BIN="$(pg_bin)"
if [ "$(id -u)" = 0 ]; then  # the server refuses to run as root
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi
running() { [ -n "$BIN" ] && [ -f "$DATA/PG_VERSION" ] && as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

case "$MODE" in
  start) ;;
  status) running; exit ;;
  stop)
    if running; then
      as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >&2
    fi
    exit 0 ;;
  *) echo "usage: bash scripts/postgres.sh [start|stop|status]" >&2; exit 2 ;;
esac

if [ -z "$BIN" ]; then
  echo "postgres.sh: installing postgresql (apt-get)" >&2
  bash "$(dirname "$0")/apt-get.sh" update -qq >&2
  bash "$(dirname "$0")/apt-get.sh" install -y -qq postgresql >&2
  BIN="$(pg_bin)"
fi

if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir "$DATA" postgres
fi

mkdir -p "$DATA"
[ "$(id -u)" = 0 ] && chown postgres "$DATA"
if [ ! -f "$DATA/PG_VERSION" ]; then
  as_pg "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 >&2
fi
if ! running; then
  as_pg "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DATA" start >&2
fi
if ! as_pg "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
  as_pg "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB" >&2
fi
echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/$DB"
