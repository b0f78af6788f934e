// compose/progress: the engine's status lines (" Container p-web-1  Started") as docker compose v2 shows
// them: on a terminal one live block, a line per object redrawn in place under a "[+] Running n/m"
// header; elsewhere the plain lines as they come. Other lines (warnings, build output) go above the block.

const LINE = /^ (Container|Network|Volume|Service|Image) (\S+) {2}(.+)$/;
const DONE = new Set(['Created', 'Started', 'Running', 'Healthy', 'Removed', 'Stopped', 'Built', 'Pulled', 'Exited', 'Recreated', 'Killed', 'Paused', 'Unpaused', 'Restarted', 'Skipped', 'Pushed']);

export interface ProgressOut { write(s: string): unknown; isTTY?: boolean }

/** Returns the `say` function the engine writes through. */
export function progress(out: ProgressOut = process.stderr): (line: string) => void {
  if (!out.isTTY) return (line) => { out.write(`${line}\n`); };
  const rows = new Map<string, string>(); // "Kind name" → status, in first-seen order
  let drawn = 0;
  const render = () => {
    const done = [...rows.values()].filter((s) => DONE.has(s)).length;
    const lines = [`[+] Running ${done}/${rows.size}`, ...[...rows.entries()].map(([k, s]) => ` ${DONE.has(s) ? '\u2714' : '\u283f'} ${k}  ${s}`)];
    // cursor up over the last drawing, then each line cleared and rewritten
    out.write(`${drawn ? `\x1b[${drawn}A` : ''}${lines.map((l) => `\x1b[2K${l}\n`).join('')}`);
    drawn = lines.length;
  };
  return (line) => {
    const m = LINE.exec(line);
    if (!m) {
      // a line of its own: printed where the block is, the block drawn again below it
      out.write(`${drawn ? `\x1b[${drawn}A\x1b[0J` : ''}${line}\n`);
      drawn = 0;
      if (rows.size) render();
      return;
    }
    rows.set(`${m[1]} ${m[2]}`, m[3]!);
    render();
  };
}
