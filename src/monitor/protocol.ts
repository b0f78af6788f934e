// monitor/protocol: the TypeScript twin of native/monitor.h — control messages and attach frames.
// test/unit/monitor.test.ts checks both sides agree.
//
//   monitor                        berth (Node)
//                        <--       SPAWN{u32 nfds, u32 argc, u32 envc, argc + envc NUL-ended strings}
//                                  (nfds | SPAWN_SELF: argv is berth-helper's own; the child runs it without an exec)
//   SPAWNED{u32 pid}     -->
//                        <--       CONTAINER{u32 pid}
//   EXITED{i32 exitCode, i32 signal (0: none)} -->   then the monitor exits 0
//   ERROR{i32 errno, i32 -1, str msg} -->           then the monitor exits non-zero
// Attach frames, both ways: {u8 type, 3 zero bytes, u32 big-endian length} + payload (Docker's stdcopy header).

/** native/monitor.h's MON_SPAWN_SELF, or-ed into SPAWN's nfds */
export const SPAWN_SELF = 0x80000000;
export const MON = { SPAWN: 1, SPAWNED: 2, CONTAINER: 3, EXITED: 4, ERROR: 5 } as const;
export const ATTACH = { STDIN: 0, STDOUT: 1, STDERR: 2, RESIZE: 4, CLOSE_STDIN: 5 } as const;

/** The first fd of the monitor's own that goes to the child (as its fd 3). */
export const FIRST_PASSED_FD = 4;
/** docker's json-file splits lines longer than this into entries without a trailing "\n". */
export const LOG_LINE_MAX = 16384;

export function controlMessage(type: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const hdr = Buffer.alloc(8);
  hdr.writeUInt32LE(type, 0);
  hdr.writeUInt32LE(payload.length, 4);
  return Buffer.concat([hdr, payload]);
}

export function encodeSpawn(argv: string[], env: string[], nfds: number, self = false): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt32LE((nfds | (self ? SPAWN_SELF : 0)) >>> 0, 0);
  head.writeUInt32LE(argv.length, 4);
  head.writeUInt32LE(env.length, 8);
  for (const s of [...argv, ...env]) if (s.includes('\0')) throw new TypeError(`NUL byte in ${JSON.stringify(s)}`);
  return Buffer.concat([head, ...[...argv, ...env].map((s) => Buffer.from(s + '\0'))]);
}

export function attachFrame(type: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const hdr = Buffer.alloc(8);
  hdr[0] = type;
  hdr.writeUInt32BE(payload.length, 4);
  return Buffer.concat([hdr, payload]);
}

/** Splits a byte stream into frames; keeps an incomplete tail for the next chunk. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly bigEndian: boolean) {}
  push(d: Buffer): Array<{ type: number; payload: Buffer }> {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    const out: Array<{ type: number; payload: Buffer }> = [];
    while (this.buf.length >= 8) {
      const len = this.bigEndian ? this.buf.readUInt32BE(4) : this.buf.readUInt32LE(4);
      if (this.buf.length < 8 + len) break;
      out.push({ type: this.bigEndian ? this.buf[0]! : this.buf.readUInt32LE(0), payload: this.buf.subarray(8, 8 + len) });
      this.buf = this.buf.subarray(8 + len);
    }
    return out;
  }
}
