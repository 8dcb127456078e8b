#!/usr/bin/env bash
# Installs the system programs the test suite runs for real: promtool (Debian's prometheus),
# amtool and alertmanager (prometheus-alertmanager: the shipped Alertmanager example is checked
# and run), docker-compose (validates docker-compose.yml; needs no Docker engine),
# blackbox_exporter (the per-probe cost bench's smoke run compares against it),
# iptables and iproute2 for fault injection in a private namespace, openssl for test certs,
# faketime (libfaketime steps the wall clock under the daemon in tests/e2e/clock-step.test.ts).
set -euo pipefail
need=()
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v amtool >/dev/null 2>&1 && command -v prometheus-alertmanager >/dev/null 2>&1 || need+=(prometheus-alertmanager)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
command -v prometheus-blackbox-exporter >/dev/null 2>&1 || need+=(prometheus-blackbox-exporter)
command -v iptables >/dev/null 2>&1 || need+=(iptables)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v faketime >/dev/null 2>&1 || need+=(faketime)
[ "${#need[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "tests need these Debian packages: ${need[*]} (run: sudo apt-get install -y ${need[*]})" >&2
  exit 1
fi
echo "installing test dependencies: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
for tool in promtool amtool prometheus-alertmanager docker-compose faketime; do
  command -v "$tool" >/dev/null 2>&1 || { echo "still missing after install: $tool" >&2; exit 1; }
done
