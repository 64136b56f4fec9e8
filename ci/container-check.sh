#!/bin/sh
# The closest thing to a fresh machine and to the CI container: a minimal Debian 12 root
# filesystem (debootstrap from the Debian archive, built once and cached), entered the way a
# privileged container is (private mount, PID and UTS namespaces; /dev/net/tun bound in;
# /proc and /sys mounted), where a clone of the repository runs the README's two commands.
#
# Each check starts from the cached minimal root: an overlay keeps what the run installs
# in a throwaway upper layer, removed afterwards.  The clone is made from a git bundle of
# HEAD, so what is checked is what is committed, not the working tree.
#
# Usage: ci/container-check.sh [COMMAND...]   (default: make report && make test)
# Environment: EPS_CONTAINER_CACHE (default <repo>/.cache/container),
#              DEBIAN_MIRROR (default http://deb.debian.org/debian),
#              CA_BUNDLE (default /etc/ssl/certs/ca-certificates.crt): the machine's TLS
#              trust, carried in so that pip works behind a proxy that re-signs TLS;
#              http_proxy/https_proxy/no_proxy pass through when set.
set -eu

repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
cache=${EPS_CONTAINER_CACHE:-$repo/.cache/container}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
rootfs=$cache/debian12
inner=${*:-make report && make test}
ca=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

if [ "$(id -u)" != 0 ]; then
	echo "container-check: needs root (namespaces, mounts, chroot)" >&2
	exit 2
fi
command -v debootstrap >/dev/null || { echo "container-check: debootstrap missing (apt-get install debootstrap)" >&2; exit 2; }
[ -c /dev/net/tun ] || { echo "container-check: no /dev/net/tun on this machine" >&2; exit 2; }

if [ ! -e "$rootfs/.complete" ]; then
	echo "container-check: building the Debian 12 root filesystem in $rootfs (once)"
	rm -rf "$rootfs.partial"
	mkdir -p "$cache"
	debootstrap --variant=minbase --include=git,make,ca-certificates,python3 \
		bookworm "$rootfs.partial" "$mirror" >"$cache/debootstrap.log" 2>&1 \
		|| { echo "container-check: debootstrap failed, see $cache/debootstrap.log" >&2; exit 2; }
	rm -rf "$rootfs.partial/var/cache/apt/archives/"*.deb
	touch "$rootfs.partial/.complete"
	mv "$rootfs.partial" "$rootfs"
fi

run=$(mktemp -d "${TMPDIR:-/tmp}/eps-container.XXXXXX")
trap 'rm -rf "$run"' EXIT INT TERM HUP
mkdir -p "$run/upper" "$run/work" "$run/root"
git -C "$repo" bundle create -q "$run/repo.bundle" HEAD

# Everything below happens in new mount, PID and UTS namespaces: the mounts vanish with them.
unshare --mount --uts --pid --fork --propagation private env -i \
	PATH=/usr/sbin:/usr/bin:/sbin:/bin RUN="$run" ROOTFS="$rootfs" INNER="$inner" CA="$ca" \
	http_proxy="${http_proxy:-}" https_proxy="${https_proxy:-}" no_proxy="${no_proxy:-}" sh -euc '
	root=$RUN/root
	mount -t overlay overlay -o "lowerdir=$ROOTFS,upperdir=$RUN/upper,workdir=$RUN/work" "$root"
	hostname epoll-semantics-ci
	mount -t proc proc "$root/proc"
	mount -t sysfs sysfs "$root/sys"
	mount -t tmpfs -o mode=755,nosuid dev "$root/dev"
	for d in null zero full random urandom tty; do
		touch "$root/dev/$d"; mount --bind "/dev/$d" "$root/dev/$d"
	done
	mkdir -p "$root/dev/net" "$root/dev/pts" "$root/dev/shm"
	touch "$root/dev/net/tun"; mount --bind /dev/net/tun "$root/dev/net/tun"
	mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
	ln -s pts/ptmx "$root/dev/ptmx"
	mount -t tmpfs -o mode=1777 shm "$root/dev/shm"
	mount -t tmpfs -o mode=1777 tmp "$root/tmp"
	mount -t tmpfs -o mode=755 run "$root/run"
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	cp "$RUN/repo.bundle" "$root/tmp/repo.bundle"
	certs=
	if [ -r "$CA" ]; then
		cp "$CA" "$root/etc/ssl/certs/machine-ca.crt"
		certs="PIP_CERT=/etc/ssl/certs/machine-ca.crt SSL_CERT_FILE=/etc/ssl/certs/machine-ca.crt"
	fi
	exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 $certs \
		http_proxy="$http_proxy" https_proxy="$https_proxy" no_proxy="$no_proxy" \
		/bin/sh -euc "git -c advice.detachedHead=false clone -q /tmp/repo.bundle /repo && cd /repo && $INNER"
'
