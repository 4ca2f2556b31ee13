#!/usr/bin/env bash
# Starts SupportGrid in standalone mode (Release, gateway + co-hosted silo in one process) with the bench agents, and the
# two baselines (bench/baselines/signalr-raw, bench/baselines/socketio), runs one scenario of the load generator against
# all of them (each run: SupportGrid, then raw SignalR, then socket.io), stops them. Arguments go to the load generator, e.g.
#   bench/run.sh chat --chats 100 --rate 200 --duration 20 --runs 3
#   bench/run.sh route --rate 50,100,200 --duration 10 --runs 3   (a list is a sweep; plots go to docs/benchmarks)
# Environment: BENCH_PORT (HTTP, default 5090), BENCH_SILO_PORT / BENCH_GATEWAY_PORT (default 21111 / 40000),
# BENCH_AGENTS (bench agents configured, default 40, capacity 50 each: enough for 2,000 chats),
# BENCH_TARGET_DIR (a checkout whose gateway is built and measured, default this one; e.g. a `git archive` of a commit),
# BENCH_RAW_PORT / BENCH_SOCKETIO_PORT (default 5091 / 5092), BENCH_BASELINES=0 to measure SupportGrid alone,
# BENCH_AGENT_CAPACITY (chats per bench agent, default 50),
# BENCH_WAITING (configure that many backlog customers for `route --waiting N`, default 0),
# BENCH_TARGET_ENV ("NAME=value ..." set for the SupportGrid target only, e.g. a GC setting to compare),
# BENCH_LIMITS=production to keep the gateway's abuse limits at their defaults and believe X-Forwarded-For from the bench
# (the under-attack run of issue 8: `chat --attack`, where every connection claims an address of its own).
set -euo pipefail
cd "$(dirname "$0")/.."
port=${BENCH_PORT:-5090}
silo_port=${BENCH_SILO_PORT:-21111}
gateway_port=${BENCH_GATEWAY_PORT:-40000}
raw_port=${BENCH_RAW_PORT:-5091}
socketio_port=${BENCH_SOCKETIO_PORT:-5092}
baselines=${BENCH_BASELINES:-1}
for p in "$port" "$silo_port" "$gateway_port" "$raw_port" "$socketio_port"; do
  # A second silo on a used port says "ready" and misbehaves (STACK-NOTES): refuse instead.
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "port $p is in use" >&2; exit 1; fi
done

target_dir=$(cd "${BENCH_TARGET_DIR:-.}" && pwd)
dotnet build -c Release "$target_dir/gateway" -nologo -v q
dotnet build -c Release bench/SupportGrid.Bench -nologo -v q
if [ "$baselines" = 1 ]; then
  dotnet build -c Release bench/baselines/signalr-raw -nologo -v q
  (cd bench/baselines/socketio && npm ci --no-audit --no-fund --silent)
fi
bench="dotnet $PWD/bench/SupportGrid.Bench/bin/Release/net10.0/SupportGrid.Bench.dll"

capacity=${BENCH_AGENT_CAPACITY:-50}
eval "$($bench agents-env --count "${BENCH_AGENTS:-40}" --capacity "$capacity" --queue demo/sales --waiting "${BENCH_WAITING:-0}")"
export Urls="http://127.0.0.1:$port"
export SupportGrid__Mode=standalone SupportGrid__Silo__SiloPort="$silo_port" SupportGrid__Silo__GatewayPort="$gateway_port"
# Fresh SQLite files (session records, grain state) for every invocation, removed at the end.
data=$(mktemp -d)
export SupportGrid__Records__SqliteConnectionString="Data Source=$data/records.db"
export SupportGrid__Storage__SqliteConnectionString="Data Source=$data/state.db"
# A queue takes customers while no agent is signed in, so that `connect --start-chat` can fill it.
export SupportGrid__Routing__OfflineWhenNoAgents=false
export Logging__LogLevel__Default=Warning DOTNET_ENVIRONMENT=Production ASPNETCORE_ENVIRONMENT=Production
# The load generator is one address opening thousands of connections and chats, and each bench agent serves up to 50
# chats on one connection (a person serves a few): lift the per-address and per-connection abuse limits
# (docs/security.md) and accept the bench deployment's demo signing key, which production mode otherwise refuses.
export SupportGrid__Security__EnforceProductionSettings=false
if [ "${BENCH_LIMITS:-lifted}" = production ]; then
  export SupportGrid__Gateway__KnownProxies__0=127.0.0.1
else
  export SupportGrid__Security__ConnectionsPerAddress=1000000 SupportGrid__Security__ChatsPerAddressPerMinute=100000 SupportGrid__Security__TcpConnectionsPerPeer=0
  export SupportGrid__Security__CallBurstPerAddress=1000000 SupportGrid__Security__CallsPerSecondPerAddress=1000000
  export SupportGrid__Security__CallBurstPerConnection=100000 SupportGrid__Security__CallsPerSecondPerConnection=100000
fi
# BENCH_TARGET_ENV: extra "NAME=value ..." for the SupportGrid target only (runtime A/B, e.g. DOTNET_GCgen0size=0x4000000).
(cd "$target_dir/gateway" && exec env ${BENCH_TARGET_ENV:-} dotnet bin/Release/net10.0/SupportGrid.Gateway.dll) &
target=$!
pids=$target
trap 'kill $pids 2>/dev/null; wait $pids 2>/dev/null || true; rm -rf "$data"' EXIT
baseline_args=()
if [ "$baselines" = 1 ]; then
  # Same runtime settings as the gateway (Release, workstation defaults); each baseline in its own process.
  (Urls="http://127.0.0.1:$raw_port" exec dotnet bench/baselines/signalr-raw/bin/Release/net10.0/SupportGrid.Bench.RawSignalR.dll) &
  raw=$!
  (cd bench/baselines/socketio && PORT=$socketio_port exec node server.js >/dev/null) &
  socketio=$!
  pids="$pids $raw $socketio"
  baseline_args=(--raw-url "http://127.0.0.1:$raw_port" --raw-pid "$raw" --socketio-url "http://127.0.0.1:$socketio_port" --socketio-pid "$socketio")
fi

# Ready when the hubs answer over HTTP (the co-hosted silo starts before Kestrel listens).
for _ in $(seq 1 300); do
  kill -0 "$target"
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/hubs/customer/negotiate?negotiateVersion=1" || true)
  [ "$code" = 200 ] && break
  sleep 0.2
done
echo "target pid $target ready on :$port" >&2
if [ "$baselines" = 1 ]; then
  for _ in $(seq 1 100); do
    kill -0 "$raw" "$socketio"
    raw_code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$raw_port/hubs/customer/negotiate?negotiateVersion=1" || true)
    sio_code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$socketio_port/socket.io/?EIO=4&transport=polling" || true)
    # socket.io answers 400 to polling (WebSocket only): it is listening.
    [ "$raw_code" = 200 ] && [ "$sio_code" = 400 ] && break
    sleep 0.2
  done
  echo "baselines: signalr-raw pid $raw on :$raw_port, socketio pid $socketio on :$socketio_port" >&2
fi

scenario=$1; shift
extra=()
case "$scenario" in chat|route) extra=(--agent-capacity "$capacity") ;; esac
$bench "$scenario" --url "http://127.0.0.1:$port" --target-pid "$target" "${extra[@]}" "${baseline_args[@]}" "$@"
