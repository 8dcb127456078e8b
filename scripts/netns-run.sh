#!/usr/bin/env bash
# Runs a command inside a fresh private network namespace with only loopback up, so that
# iptables/tc fault injection can never touch the host's network: there is no route out.
set -euo pipefail
if [ "$#" -eq 0 ]; then echo "usage: scripts/netns-run.sh COMMAND [ARGS...]" >&2; exit 2; fi
exec unshare --net -- bash -c '
  set -euo pipefail
  ip link set lo up
  if ip route show | grep -q .; then
    if ip route show | grep -qv "^127\.\|dev lo"; then echo "netns-run: unexpected routes in the namespace" >&2; exit 3; fi
  fi
  export LOOKOUT_NETNS=1
  exec "$@"
' netns-run "$@"
