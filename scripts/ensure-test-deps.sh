#!/usr/bin/env bash
# Installs the system programs the test suite runs for real: promtool (Debian's prometheus),
# amtool and alertmanager (prometheus-alertmanager: the shipped Alertmanager example is checked
# and run), docker-compose (validates docker-compose.yml; needs no Docker engine),
# blackbox_exporter (the per-probe cost bench's smoke run compares against it),
# iptables and iproute2 for fault injection in a private namespace, openssl for test certs,
# MaxMind's MMDB writer (libmaxmind-db-writer-perl: scripts/mmdb-build.pl is tested for real),
# podman, buildah, runc, mmdebstrap and slirp4netns (published ports) to build the container image and run it for real
# (tests/container/container.test.ts; Debian's crun cannot run on a hybrid cgroup layout, runc can).
# faketime (libfaketime steps the wall clock under the daemon in tests/e2e/clock-step.test.ts).
# fping (the icmp prober sends its echoes through it: tests/netns/icmp-faults.test.ts).
# chromium (the status page is tested in a real browser through playwright-core, which never
# downloads a browser of its own: tests/e2e/page-browser.test.ts).
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
perl -MMaxMind::DB::Writer::Tree -e 1 >/dev/null 2>&1 || need+=(libmaxmind-db-writer-perl)
command -v podman >/dev/null 2>&1 || need+=(podman)
command -v buildah >/dev/null 2>&1 || need+=(buildah)
command -v runc >/dev/null 2>&1 || need+=(runc)
command -v mmdebstrap >/dev/null 2>&1 || need+=(mmdebstrap)
command -v slirp4netns >/dev/null 2>&1 || need+=(slirp4netns)
command -v faketime >/dev/null 2>&1 || need+=(faketime)
command -v fping >/dev/null 2>&1 || need+=(fping)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ "${#need[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "tests need these Debian packages: ${need[*]} (run: sudo apt-get install -y ${need[*]})" >&2
  exit 1
fi
echo "installing test dependencies: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Other installs may hold the dpkg lock for a while: wait for it instead of failing.
apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
for tool in promtool amtool prometheus-alertmanager docker-compose podman buildah runc mmdebstrap slirp4netns faketime fping chromium; do
  command -v "$tool" >/dev/null 2>&1 || { echo "still missing after install: $tool" >&2; exit 1; }
done
