#!/bin/sh
# Install the .deb on a clean Debian system and run the smoke test there as an ordinary user; then remove the
# package and check that the program is gone and the user's data is not. Run as root on the build machine:
#
#     debootstrap --variant=minbase bookworm /srv/bookworm http://deb.debian.org/debian     (once, ~1 min)
#     sh installer/install_test.sh /srv/bookworm dist/curbdesk_0.2.0_amd64.deb
#
# The chroot is changed (the package and its dependencies installed, then the package removed; a user
# `smoketest` added): make a fresh one, or copy it first (cp -a), for a clean run every time.
set -eu
ROOT=$(cd "$1" && pwd)
DEB=$2
HERE=$(cd "$(dirname "$0")" && pwd)
[ -x "$ROOT/usr/bin/apt-get" ] || { echo "$ROOT is not a Debian system (no apt-get)" >&2; exit 2; }

# Mounted fresh (never --rbind: a recursive bind cannot be taken down by one umount, and a chroot deleted
# with a host folder still mounted in it deletes from the host), and always unmounted on the way out.
cleanup() {
    for m in dev/pts dev sys proc; do
        umount "$ROOT/$m" 2>/dev/null || umount -l "$ROOT/$m" 2>/dev/null || true
    done
    if grep -q " $ROOT/" /proc/mounts; then echo "still mounted under $ROOT: unmount before deleting it" >&2; fi
}
trap cleanup EXIT
mount -t proc proc "$ROOT/proc"
mount -t sysfs sysfs "$ROOT/sys"
mount --bind /dev "$ROOT/dev"
mount --bind /dev/pts "$ROOT/dev/pts"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
cp "$DEB" "$ROOT/tmp/curbdesk.deb"
cp "$HERE/smoke.sh" "$ROOT/tmp/smoke.sh"

in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }

echo "--- apt-get install ./curbdesk.deb (with its dependencies, from Debian's mirror)"
in_root apt-get update -q
in_root apt-get install -y -q --no-install-recommends /tmp/curbdesk.deb
in_root dpkg -s curbdesk | grep -E '^(Status|Version):'
in_root test -x /usr/bin/curbdesk
in_root test -f /usr/share/applications/curbdesk.desktop
in_root test -f /usr/share/icons/hicolor/256x256/apps/curbdesk.png

echo "--- smoke test as an ordinary user"
in_root id smoketest >/dev/null 2>&1 || in_root useradd -m smoketest
in_root runuser -u smoketest -- env HOME=/home/smoketest LANG=C.UTF-8 sh /tmp/smoke.sh /usr/bin/curbdesk

echo "--- remove the package: the program goes, the user's data stays"
in_root apt-get remove -y -q curbdesk
in_root test ! -e /opt/curbdesk/curbdesk
in_root test ! -e /usr/share/applications/curbdesk.desktop
in_root test -s /home/smoketest/.local/share/Curbdesk/curbdesk.sqlite3
echo "INSTALL TEST PASSED on $(in_root sh -c '. /etc/os-release; echo $PRETTY_NAME')"
