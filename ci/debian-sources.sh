#!/bin/sh
# Debian's archive written out in full, keyring included, instead of whatever the image or
# runner ships: the guest-kernel fetcher derives its private apt configuration from it
# (main and security entries; it adds the other releases' suites itself).
set -eu
apt-get install -y -qq --no-install-recommends debian-archive-keyring ca-certificates
rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources
cat > /etc/apt/sources.list.d/debian.sources <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
apt-get update -qq
