#!/usr/bin/env bash
# Runs every SupportGrid test. Installs what the tests need first (Debian's Chromium for the browser tests;
# npm packages are installed by the gateway's build), so it works on a fresh Debian machine with the .NET SDK and Node.
set -euo pipefail
cd "$(dirname "$0")"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing ${need[*]} ..."
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need[@]}" >/dev/null
fi

dotnet build SupportGrid.slnx -c Release
dotnet test SupportGrid.slnx -c Release --no-build --blame-hang-timeout 15m --logger "console;verbosity=normal" "$@"
