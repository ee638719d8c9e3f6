"""Agent scripts the executor tests run for real: a Heartbeat resource.d script, an LSB
init script and a small OCF agent, all keeping their state in files under a test dir."""

from __future__ import annotations

from pathlib import Path

HEARTBEAT = """#!/bin/sh
# resource.d style: ARGS... start|stop|status; state in $STATE_DIR/NAME.
dir="{dir}"
for a in "$@"; do printf '%s\\n' "$a" >> "$dir/argv.log"; done
eval "op=\\${{$#}}"
case "$op" in
  start) touch "$dir/$1"; echo "started $1" ;;
  stop) rm -f "$dir/$1" ;;
  status) if [ -e "$dir/$1" ]; then echo "$1 is running"; else echo "$1 is stopped"; fi ;;
  *) exit 3 ;;
esac
"""

LSB = """#!/bin/sh
### BEGIN INIT INFO
# Provides: vtest
# Short-Description: a test service
# Description: Keeps a pid file,
#   as daemons do.
### END INIT INFO
dir="{dir}"
case "$1" in
  start) echo $$ > "$dir/vtest.pid"; exit 0 ;;
  stop) rm -f "$dir/vtest.pid"; exit 0 ;;
  status)
    [ -e "$dir/crashed" ] && exit 1
    [ -e "$dir/vtest.pid" ] && exit 0
    exit 3 ;;
  *) exit 3 ;;
esac
"""

# An OCF agent that reports its environment and can be told to hang or ignore TERM.
OCF = """#!/bin/sh
dir="{dir}"
env | grep -E '^OCF_' | sort > "$dir/env.$1"
case "$1" in
  meta-data) cat <<END
<?xml version="1.0"?>
<resource-agent name="Probe"><version>1.0</version>
<shortdesc lang="en">test agent</shortdesc>
<parameters><parameter name="mode" required="0"><content type="string" default="ok"/>
</parameter></parameters>
<actions><action name="start" timeout="7s"/><action name="stop" timeout="7s"/>
<action name="monitor" timeout="3s" interval="1s"/>
<action name="validate-all" timeout="2s"/><action name="meta-data" timeout="5s"/></actions>
</resource-agent>
END
  exit 0 ;;
  validate-all) [ "$OCF_RESKEY_mode" = "bad" ] && {{ echo "ocf-exit-reason:mode bad" >&2; exit 6; }}
    exit 0 ;;
esac
[ "$OCF_RESKEY_mode" = "hang" ] && exec sleep 60
if [ "$OCF_RESKEY_mode" = "stubborn" ]; then trap '' TERM; sleep 60 & wait; wait; fi
case "$1" in
  start) touch "$dir/running" ;;
  stop) rm -f "$dir/running" ;;
  monitor) [ -e "$dir/running" ] || exit 7 ;;
  *) exit 3 ;;
esac
exit 0
"""


def install(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path

