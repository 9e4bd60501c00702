#!/usr/bin/env bash
# Start (or stop) a throwaway PostgreSQL cluster for the test suite and print its SQLAlchemy URL.
# PostgreSQL 15 is installed on these machines but not running; we never touch the system cluster:
# initdb into a temporary folder as the `postgres` user, listen on loopback only, trust auth.
# usage: throwaway-postgres.sh start|stop
# The test suite's server runs without fsync (nothing in it needs to survive a crash);
# CONSENTREG_PG_SETTINGS adds or overrides server settings ("name=value name=value"), as the scale
# benchmark does to run a server configured like a municipality's (fsync on, larger buffers).
set -euo pipefail
DIR=${CONSENTREG_PG_DIR:-/tmp/consentreg-test-pg}
PORT=${CONSENTREG_PG_PORT:-54329}
SETTINGS="-c fsync=off"
for setting in ${CONSENTREG_PG_SETTINGS:-}; do SETTINGS="$SETTINGS -c $setting"; done
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$BIN" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "${1:-start}" in
  start)
    if ! as_pg "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
      rm -rf "$DIR"; mkdir -p "$DIR"
      [ "$(id -u)" = 0 ] && chown postgres "$DIR"
      as_pg "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
        || { cat "$DIR/initdb.log" >&2; exit 1; }
      as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c max_connections=50 $SETTINGS" start >/dev/null \
        || { cat "$DIR/server.log" >&2; exit 1; }
      as_pg "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres consentreg_test
    fi
    echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/consentreg_test"
    ;;
  stop)
    as_pg "$BIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$DIR"
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
