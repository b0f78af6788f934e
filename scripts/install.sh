#!/usr/bin/env bash
# Installs a built checkout of Berth as root: `berth`/`berthd` on PATH (npm link), bash completion and,
# where systemd runs, berth.socket + berth.service (socket-activated, like docker.socket). Then starts
# berthd (through systemd, or in the background with its log in /var/log/berthd.log) and waits for it.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/bin/daemon/berthd.js ] || { echo "install: build first (npm ci builds)" >&2; exit 1; }
npm link --no-audit --no-fund >/dev/null
berthd_bin=$(command -v berthd)
if [ -d /usr/share/bash-completion/completions ] || [ -d /etc/bash_completion.d ]; then
  install -D -m 0644 contrib/completion/berth.bash /usr/share/bash-completion/completions/berth
fi
up() { berth version >/dev/null 2>&1; }
if [ -d /run/systemd/system ]; then
  sed "s#^ExecStart=.*#ExecStart=$berthd_bin -H fd://#" contrib/systemd/berth.service > /etc/systemd/system/berth.service
  install -m 0644 contrib/systemd/berth.socket /etc/systemd/system/berth.socket
  systemctl daemon-reload
  systemctl enable --now berth.socket berth.service >/dev/null
elif ! up; then
  nohup "$berthd_bin" >>/var/log/berthd.log 2>&1 </dev/null &
fi
for _ in $(seq 100); do up && exit 0; sleep 0.1; done
echo "install: berthd did not answer on /run/berth/berth.sock; see /var/log/berthd.log or journalctl -u berth" >&2
exit 1
