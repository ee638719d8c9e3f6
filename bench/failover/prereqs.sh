#!/usr/bin/env bash
# Installs what bench/failover drives: the peers (keepalived, Heartbeat 3.0.6) and
# the tools it runs (ip, unshare, nsenter, chrt, nft). Debian 12, as root. Idempotent.
# Not in scripts/system-deps.sh on purpose: `make test` does not need them.
set -euo pipefail
NEEDED=(
    "keepalived:/usr/sbin/keepalived"
    "heartbeat:/usr/libexec/heartbeat/heartbeat"
    "iproute2:/usr/sbin/ip"
    "util-linux:/usr/bin/unshare"
    "util-linux:/usr/bin/nsenter"
    "util-linux:/usr/bin/chrt"
    "nftables:/usr/sbin/nft"
)
missing=()
for entry in "${NEEDED[@]}"; do
    package=${entry%%:*} path=${entry#*:}
    [[ -e $path ]] || missing+=("$package")
done
if (( ${#missing[@]} == 0 )); then
    exit 0
fi
if (( EUID != 0 )); then
    echo "bench/failover needs: ${missing[*]} (run this script as root to install them)" >&2
    exit 1
fi
echo "bench/failover: installing ${missing[*]} (apt-get, no recommends)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends "${missing[@]}" >&2 || {
    apt-get update >&2
    apt-get install -y --no-install-recommends "${missing[@]}" >&2
}
# Debian enables heartbeat.service on install; the bench runs its own copies only.
# (Nothing is started: policy-rc.d or no systemd here; with systemd, stop it yourself.)
