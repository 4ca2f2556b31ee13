#!/usr/bin/env bash
# Runs every SupportGrid test. Installs what the tests need first (Debian's Chromium for the browser tests, Redis and
# PostgreSQL for the cluster tests; npm packages are installed by the gateway's build), so it works on a fresh Debian
# machine with the .NET SDK and Node. Redis and PostgreSQL run for the tests only, on 127.0.0.1 on fresh ports, and are
# stopped at the end; the cluster tests find them through SUPPORTGRID_TEST_REDIS and SUPPORTGRID_TEST_POSTGRES.
set -euo pipefail
cd "$(dirname "$0")"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v redis-server >/dev/null || need+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing ${need[*]} ..."
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need[@]}" >/dev/null
fi

# A port nothing listens on (and not one of the ports the tests pick from the kernel's ephemeral range).
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 12000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

stores=$(mktemp -d /tmp/sg-test-stores.XXXXXX)
chmod 755 "$stores"
pg_bin=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
# PostgreSQL refuses to run as root: as root, run it as the postgres user the package created.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

stop_stores() {
  [ -f "$stores/redis.pid" ] && kill "$(cat "$stores/redis.pid")" 2>/dev/null || true
  [ -f "$stores/pg/postmaster.pid" ] && as_pg "$pg_bin/pg_ctl" -D "$stores/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$stores"
}
trap stop_stores EXIT

redis_port=$(free_port)
redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no --daemonize yes \
  --pidfile "$stores/redis.pid" --logfile "$stores/redis.log" --dir "$stores"

pg_port=$(free_port)
mkdir "$stores/pg"
[ "$(id -u)" = 0 ] && chown postgres "$stores/pg"
as_pg "$pg_bin/initdb" -D "$stores/pg" -U postgres --auth=trust -E UTF8 >/dev/null
as_pg "$pg_bin/pg_ctl" -D "$stores/pg" -l "$stores/pg/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -c port=$pg_port -c unix_socket_directories=$stores/pg -c fsync=off" start >/dev/null
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

export SUPPORTGRID_TEST_REDIS="127.0.0.1:$redis_port"
export SUPPORTGRID_TEST_POSTGRES="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres"
export SUPPORTGRID_TEST_STRICT=1 # the cluster tests fail, not skip, if a store is missing
echo "Test stores: Redis $SUPPORTGRID_TEST_REDIS, PostgreSQL 127.0.0.1:$pg_port"

dotnet build SupportGrid.slnx -c Release
# The console log is long; the failures are repeated at the end so that the last lines of a CI log say what failed and why.
log="$stores/test.log"
set +e
dotnet test SupportGrid.slnx -c Release --no-build --blame-hang-timeout 15m --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
echo
echo "==== Summary ===="
grep -a -E '^(Total tests|     (Passed|Failed|Skipped)):|Test Run (Successful|Failed|Aborted)' "$log" || true
if [ "$rc" != 0 ]; then
  echo "==== Failed tests (exit code $rc) ===="
  grep -a -E -A 30 '^  Failed [A-Za-z0-9_.]+ \[' "$log" | grep -a -v -E '^(info|dbug|trce|warn): |^      [^ ]' | head -300 || true
  grep -a -E 'The active test run was aborted|Test host process crashed|hang' "$log" | head -20 || true
fi
exit "$rc"
