#!/usr/bin/env bash
# Installs what building, testing and the lab need on a fresh Debian 12 machine (as root).
# Idempotent: a machine that has everything costs one dpkg query.
set -euo pipefail

packages=(
  debootstrap systemd-container iproute2 util-linux   # the lab: nodes and their network
  openssh-server openssh-client                        # sshd for transport tests; ssh-keygen
  pkg-config libssl-dev                                # ssh2 links the system OpenSSL
  libxml2-utils                                        # xmllint: JUnit checked against the XSD
  chromium chromium-driver                             # L4: the real browser and its WebDriver
  curl ca-certificates
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v cargo >/dev/null || { echo "setup: cargo not found (install Rust with rustup)" >&2; exit 2; }
