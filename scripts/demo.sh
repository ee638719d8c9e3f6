#!/usr/bin/env bash
# make demo (first slice): check the bundled example configurations.
set -euo pipefail
cd "$(dirname "$0")/.."
VIGIL=.venv/bin/vigil
work=$(mktemp -d /tmp/vigil-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
for dir in examples/heartbeat-3node/node0 examples/heartbeat-3node/node1 examples/heartbeat-3node/node2 examples/heartbeat-2node; do
  [ -d "$dir" ] || continue
  # git keeps no permission bits but the exec bit: authkeys must be 0600 to be accepted
  cp -r "$dir" "$work/$(basename "$dir")"
  chmod 600 "$work/$(basename "$dir")/authkeys"
  echo "\$ vigil config check $dir"
  $VIGIL config check "$work/$(basename "$dir")" 2>&1 | sed "s#$work/#$(dirname "$dir")/#g" || true
  echo
done
