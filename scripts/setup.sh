#!/usr/bin/env bash
# Installs everything the build, the demo and the tests need on a fresh Debian machine:
# the Debian packages (network tools, the reference plugins, Go for the libcni interop test,
# podman, runc and containerd for the end-to-end tests and the installer image, strace for the
# benchmark's profile, openssl for the installer tests' CA, User-Mode Linux and kmod for the
# tests that need kernel features the host may lack) and the npm packages. Safe to run again:
# it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  iproute2 iptables nftables conntrack iperf3 iputils-ping curl busybox-static dnsmasq-base
  containernetworking-plugins golang-go golang-github-appc-cni-dev firewalld dbus systemd
  podman runc containerd strace openssl user-mode-linux kmod
)

missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: must run as root to install packages (and to create network namespaces)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # firewalld must never start on the host: it would take over the host's firewall. The tests run
  # their own firewalld inside a namespace. So no service may start during the install.
  guard=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    guard=/usr/sbin/policy-rc.d
  fi
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
  [ -n "$guard" ] && rm -f "$guard"
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl disable --now firewalld >/dev/null 2>&1 || true
    # A containerd this run installed must not start at boot either: the end-to-end tests run a
    # private one, and a host one would serve /etc/cni/net.d to whoever asks it for pods.
    if [[ " ${missing[*]} " == *" containerd "* ]]; then
      systemctl disable --now containerd >/dev/null 2>&1 || true
    fi
  fi
fi

# npm ci empties node_modules first: through a symlink it would empty another checkout's copy.
if [ -L node_modules ]; then
  echo "setup: node_modules is a symlink to another checkout's packages; leaving them as they are"
elif [ ! -x node_modules/.bin/bun ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi
