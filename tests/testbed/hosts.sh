#!/usr/bin/env bash
# Real target hosts for the test suite: a Docker engine that keeps every container on the host's
# network (so all test traffic stays on loopback) and Debian images built locally with
# debootstrap, since no registry serves images here.
#
#   tests/testbed/hosts.sh engine            start the engine if it is not running
#   tests/testbed/hosts.sh images [CODENAME] build local/debian:CODENAME (default: all supported)
#   tests/testbed/hosts.sh tools CMD:PKG...  install Debian package PKG where command CMD is missing
#   tests/testbed/hosts.sh ssh NAME PORT KEY.pub POETRY
#                                            a Debian 12 host NAME (a container) reached as users
#                                            reach theirs: over SSH on 127.0.0.1:PORT as the sudo
#                                            user deployer with key KEY, its login and sudo noisy
#                                            (ssh_host.sh), with Poetry POETRY in /opt/poetry
#
# Images carry systemd so that one image serves both plain and service-managing scenarios.
set -euo pipefail

CODENAMES=(bullseye bookworm trixie)
# Bump when the recipe below changes; images with another value are rebuilt.
RECIPE=4
PACKAGES=python3,python3-apt,sudo,ca-certificates,systemd,systemd-sysv,dbus,procps,curl
STATE_DIR=${LOCKSTEP_TESTBED_DIR:-/var/tmp/lockstep-testbed}

log() { printf '[testbed] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

need_root() {
  [ "$(id -u)" = 0 ] || die "$1 needs root (or a running Docker engine and images built by root)."
}

apt_install() {
  local missing=()
  for cmd_pkg in "$@"; do
    command -v "${cmd_pkg%%:*}" >/dev/null 2>&1 || missing+=("${cmd_pkg##*:}")
  done
  [ ${#missing[@]} = 0 ] && return 0
  need_root "installing ${missing[*]}"
  log "installing ${missing[*]} from Debian packages"
  local out
  out=$(apt-get update -qq 2>&1 &&
    DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get install -y -qq "${missing[@]}" 2>&1) ||
    { printf '%s\n' "$out" >&2; die "apt-get install ${missing[*]} failed"; }
}

engine() {
  if docker info >/dev/null 2>&1; then return 0; fi
  apt_install docker:docker.io dockerd:docker.io
  need_root "starting the Docker engine"
  mkdir -p "$STATE_DIR"
  log "starting dockerd (no bridge: containers use the host network)"
  # 9>&-: the engine outlives this script and must not inherit (and so hold) the lock below.
  nohup dockerd --bridge=none --iptables=false >"$STATE_DIR/dockerd.log" 2>&1 9>&- &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return 0
    sleep 1
  done
  die "dockerd did not start; see $STATE_DIR/dockerd.log"
}

debian_mirror() {
  local uri
  uri=$(grep -hoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list.d/*.sources \
    /etc/apt/sources.list 2>/dev/null | head -1 | awk '{print $2}')
  echo "${uri:-http://deb.debian.org/debian}"
}

image() {
  local codename=$1 tag="local/debian:$1" rootfs mirror
  if [ "$(docker image inspect -f '{{ index .Config.Labels "lockstep.recipe" }}' "$tag" 2>/dev/null)" = "$RECIPE" ]; then
    return 0
  fi
  apt_install debootstrap:debootstrap
  need_root "building $tag"
  mirror=$(debian_mirror)
  rootfs=$(mktemp -d "/var/tmp/rootfs-$codename.XXXXXX")
  trap 'rm -rf "$rootfs"' RETURN
  log "building $tag with debootstrap from $mirror"
  # Throwaway test hosts: dpkg skips fsync and the documentation, in the build and in every
  # package a test installs later.
  mkdir -p "$rootfs/etc/dpkg/dpkg.cfg.d"
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/lockstep-testbed" <<'DPKG'
force-unsafe-io
path-exclude=/usr/share/doc/*
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
DPKG
  debootstrap --variant=minbase --include="$PACKAGES" "$codename" "$rootfs" "$mirror" \
    >"$rootfs.log" 2>&1 || { tail -20 "$rootfs.log" >&2; die "debootstrap $codename failed"; }
  rm -f "$rootfs.log"
  local security="${mirror%/debian*}/debian-security"
  cat >"$rootfs/etc/apt/sources.list" <<SOURCES
deb $mirror $codename main
deb $mirror $codename-updates main
deb $security $codename-security main
SOURCES
  # Trust what the host trusts (a TLS-intercepting proxy or a private CA for package mirrors).
  cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/" 2>/dev/null || true
  chroot "$rootfs" update-ca-certificates >/dev/null 2>&1 || true
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | docker import \
    --change "LABEL lockstep.recipe=$RECIPE" \
    --change 'CMD ["/lib/systemd/systemd"]' - "$tag" >/dev/null
  log "built $tag"
}

# ssh_target NAME PORT KEY.pub POETRY: made afresh, for one test run.
ssh_target() {
  local name=$1 port=$2 key=$3 poetry=$4
  image bookworm
  docker rm -f "$name" >/dev/null 2>&1 || true
  log "starting $name: SSH on 127.0.0.1:$port, Poetry $poetry"
  docker run -d --name "$name" --network host \
    -v "$STATE_DIR/pip-cache:/root/.cache/pip" local/debian:bookworm sleep infinity >/dev/null
  docker exec -i "$name" sh -s "$port" deployer "$(cat "$key")" noisy <"$(dirname "$0")/ssh_host.sh"
  # What the modules need there: Poetry, and tomlkit for the modules that edit TOML files.
  docker exec "$name" sh -euc "
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv python3-tomlkit >/dev/null
    python3 -m venv /opt/poetry
    /opt/poetry/bin/pip install -q --disable-pip-version-check --index-url https://pypi.org/simple/ poetry==$poetry
    /opt/poetry/bin/poetry --version"
}

# One at a time: apt and the image builds do not share (scripts/test starts the images' build in
# the background while its jobs may install tools or wait for the images).
LOCK="${TMPDIR:-/tmp}/lockstep-testbed-$(id -u).lock"
exec 9>"$LOCK"
# Building the images from nothing takes a few minutes; far longer means a stuck holder.
flock -w "${LOCKSTEP_TESTBED_LOCK_WAIT:-1200}" 9 ||
  die "another test bed step has held $LOCK for over ${LOCKSTEP_TESTBED_LOCK_WAIT:-1200} s: holders: $(command -v fuser >/dev/null && fuser "$LOCK" 2>&1)"

case "${1:-}" in
  engine) engine ;;
  images)
    engine
    shift
    for codename in "${@:-${CODENAMES[@]}}"; do image "$codename"; done
    ;;
  tools) shift; apt_install "$@" ;;
  ssh) engine; shift; ssh_target "$@" ;;
  *) echo "usage: $0 engine|images [CODENAME...]|tools CMD:PKG...|ssh NAME PORT KEY.pub POETRY" >&2; exit 2 ;;
esac
