#!/usr/bin/env bash
# Install PostgreSQL (apt-get, only if missing), start a throwaway server on 127.0.0.1 and
# print its URL (for TWIN_TEST_POSTGRES_URL). Everything else goes to stderr.
#   TWIN_PG_PORT (default 55432), TWIN_PG_DIR (default /tmp/twin-postgres)
set -euo pipefail
PORT="${TWIN_PG_PORT:-55432}"
DATA="${TWIN_PG_DIR:-/tmp/twin-postgres}"
DB=twin_test

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
BIN="$(pg_bin)"
if [ -z "$BIN" ]; then
  echo "postgres.sh: installing postgresql (apt-get)" >&2
  bash "$(dirname "$0")/apt-get.sh" update -qq >&2
  bash "$(dirname "$0")/apt-get.sh" install -y -qq postgresql >&2
  BIN="$(pg_bin)"
fi

if [ "$(id -u)" = 0 ]; then  # the server refuses to run as root
  id postgres >/dev/null 2>&1 || useradd --system --home-dir "$DATA" postgres
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi

mkdir -p "$DATA"
[ "$(id -u)" = 0 ] && chown postgres "$DATA"
if [ ! -f "$DATA/PG_VERSION" ]; then
  as_pg "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 >&2
fi
if ! as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  as_pg "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DATA" start >&2
fi
if ! as_pg "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
  as_pg "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB" >&2
fi
echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/$DB"
