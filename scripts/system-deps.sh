#!/usr/bin/env bash
# Install the Debian packages vigil's tests and demo drive for real, when missing.
# As root this installs them; otherwise it says what is missing (tests that need
# them fail under CI=true and skip, saying why, elsewhere).
set -euo pipefail
# package:file-that-proves-it-is-installed
NEEDED=(
  "iproute2:/usr/bin/ip"
  "resource-agents:/usr/lib/ocf/resource.d/heartbeat/Dummy"
  "fence-agents:/usr/sbin/fence_dummy"
  "nftables:/usr/sbin/nft"
  "chromium:/usr/bin/chromium"
  "chromium-driver:/usr/bin/chromedriver"
  "etcd-server:/usr/bin/etcd"
)
missing=()
for item in "${NEEDED[@]}"; do
  pkg=${item%%:*}; probe=${item#*:}
  [ -e "$probe" ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: missing Debian packages: ${missing[*]} (run as root, or: apt-get install ${missing[*]})" >&2
  exit 0
fi
echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
