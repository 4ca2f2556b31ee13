#!/usr/bin/env bash
# Starts SupportGrid in standalone mode (Release, gateway + co-hosted silo in one process) with the bench agents, runs
# one scenario of the load generator against it, stops it. Arguments go to the load generator, e.g.
#   bench/run.sh chat --chats 100 --rate 200 --duration 20 --runs 3
# Environment: BENCH_PORT (HTTP, default 5090), BENCH_SILO_PORT / BENCH_GATEWAY_PORT (default 21111 / 40000),
# BENCH_AGENTS (bench agents configured, default 40, capacity 50 each: enough for 2,000 chats),
# BENCH_TARGET_DIR (a checkout whose gateway is built and measured, default this one; e.g. a `git archive` of a commit).
set -euo pipefail
cd "$(dirname "$0")/.."
port=${BENCH_PORT:-5090}
silo_port=${BENCH_SILO_PORT:-21111}
gateway_port=${BENCH_GATEWAY_PORT:-40000}
for p in "$port" "$silo_port" "$gateway_port"; do
  # A second silo on a used port says "ready" and misbehaves (STACK-NOTES): refuse instead.
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "port $p is in use" >&2; exit 1; fi
done

target_dir=$(cd "${BENCH_TARGET_DIR:-.}" && pwd)
dotnet build -c Release "$target_dir/gateway" -nologo -v q
dotnet build -c Release bench/SupportGrid.Bench -nologo -v q
bench="dotnet $PWD/bench/SupportGrid.Bench/bin/Release/net10.0/SupportGrid.Bench.dll"

eval "$($bench agents-env --count "${BENCH_AGENTS:-40}" --capacity 50 --queue demo/sales)"
export Urls="http://127.0.0.1:$port"
export SupportGrid__Mode=standalone SupportGrid__Silo__SiloPort="$silo_port" SupportGrid__Silo__GatewayPort="$gateway_port"
export Logging__LogLevel__Default=Warning DOTNET_ENVIRONMENT=Production ASPNETCORE_ENVIRONMENT=Production
(cd "$target_dir/gateway" && exec dotnet bin/Release/net10.0/SupportGrid.Gateway.dll) &
target=$!
trap 'kill $target 2>/dev/null; wait $target 2>/dev/null || true' EXIT

# Ready when the hubs answer over HTTP (the co-hosted silo starts before Kestrel listens).
for _ in $(seq 1 300); do
  kill -0 "$target"
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/hubs/customer/negotiate?negotiateVersion=1" || true)
  [ "$code" = 200 ] && break
  sleep 0.2
done
echo "target pid $target ready on :$port" >&2

scenario=$1; shift
$bench "$scenario" --url "http://127.0.0.1:$port" --target-pid "$target" --agent-capacity 50 "$@"
