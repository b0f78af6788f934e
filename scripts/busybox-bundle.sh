#!/usr/bin/env bash
# Makes an OCI bundle (rootfs + config.json) from Debian's busybox-static: busybox-bundle.sh DIR [CMD...]
set -euo pipefail
dir=${1:?usage: busybox-bundle.sh DIR [CMD...]}
shift
[ -x /bin/busybox ] || { echo "busybox-bundle: /bin/busybox is missing: apt-get install busybox-static" >&2; exit 1; }
mkdir -p "$dir/rootfs/bin" "$dir/rootfs"/{proc,sys,dev,tmp,etc,root}
cp /bin/busybox "$dir/rootfs/bin/busybox"
for app in $(/bin/busybox --list); do [ "$app" = busybox ] || ln -sf busybox "$dir/rootfs/bin/$app"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$dir/rootfs/etc/passwd"
echo 'root:x:0:' > "$dir/rootfs/etc/group"
rm -f "$dir/config.json"
here=$(cd "$(dirname "$0")/.." && pwd)
node "$here/dist/src/cli/berth.js" runtime spec --bundle "$dir"
[ $# -gt 0 ] || set -- /bin/sh -c 'echo "hello from a Berth container: pid $$, hostname $(hostname)"'
node -e '
const fs = require("fs"), f = process.argv[1] + "/config.json";
const c = JSON.parse(fs.readFileSync(f, "utf8"));
c.process.terminal = false;
c.process.args = process.argv.slice(2);
fs.writeFileSync(f, JSON.stringify(c, null, "\t") + "\n");
' "$dir" "$@"
