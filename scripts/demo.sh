#!/usr/bin/env bash
# The main job, offline: makes a `busybox` image from Debian's busybox-static (unless berthd has one) and
# runs a container from it through berthd.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
if ! berth image inspect busybox >/dev/null 2>&1; then
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' EXIT
  "$here/scripts/busybox-bundle.sh" "$dir" >/dev/null
  tar -C "$dir/rootfs" -c . | berth import - busybox >/dev/null
fi
berth run --rm busybox echo "hello from a Berth container"
