#!/usr/bin/env bash
# Debian packages Berth needs: `install-deps.sh` for building and running, `install-deps.sh --test` adds
# what the test suite and benchmarks use (runc to compare with, a registry and skopeo as real peers).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
pkgs=(build-essential libc6-dev busybox-static util-linux iproute2 nftables procps ca-certificates tini isal)
if [ "${1:-}" = "--test" ]; then
  # docker.io + containerd: Debian's dockerd, the peer the benchmarks and the berth-CLI-against-dockerd test start
  pkgs+=(runc skopeo docker-registry python3-docker docker-compose hyperfine zstd curl bsdextrautils umoci iptables debootstrap strace
    docker.io containerd)
fi
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq
  # no package's service starts at install (policy-rc.d, Debian's switch for that): a system dockerd would set
  # the FORWARD policy to DROP and make docker0 under the network tests; tests and benchmarks start their own
  made_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; made_policy=1; fi
  trap '[ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # installed here for the tests only: not started at the next boot either
  if [[ " ${missing[*]} " == *" docker.io "* ]] && [ -d /run/systemd/system ]; then
    systemctl disable -q docker.socket docker.service 2>/dev/null || true
  fi
fi
