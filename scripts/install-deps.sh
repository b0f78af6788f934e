#!/usr/bin/env bash
# Debian packages Berth needs: `install-deps.sh` for building and running, `install-deps.sh --test` adds
# what the test suite and benchmarks use (runc to compare with, a registry and skopeo as real peers).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
pkgs=(build-essential libc6-dev busybox-static util-linux iproute2 nftables procps ca-certificates tini isal)
if [ "${1:-}" = "--test" ]; then
  pkgs+=(runc skopeo docker-registry python3-docker docker-compose hyperfine zstd curl bsdextrautils umoci iptables debootstrap strace)
fi
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
