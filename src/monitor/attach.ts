// monitor/attach: a client of a monitor's attach socket — live output in, stdin, resize and close-stdin out.
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import { BerthError } from '../errors.js';
import { ATTACH, attachFrame, FrameReader } from './protocol.js';

/** Events: 'stdout' and 'stderr' (Buffer), 'close' (the monitor hung up: the container exited, or it dropped us). */
export interface Attachment extends EventEmitter {
  /** The socket itself, for callers that forward frames as they are (Docker's stdcopy header). */
  readonly socket: net.Socket;
  write(stdin: Buffer | string): boolean;
  resize(rows: number, cols: number): void;
  closeStdin(): void;
  close(): void;
}

class Client extends EventEmitter implements Attachment {
  private readonly reader = new FrameReader(true);
  constructor(readonly socket: net.Socket) {
    super();
    socket.on('data', (d: Buffer) => {
      for (const f of this.reader.push(d)) this.emit(f.type === ATTACH.STDERR ? 'stderr' : 'stdout', f.payload);
    });
    socket.on('close', () => this.emit('close'));
    socket.on('error', () => { /* 'close' follows */ });
  }
  write(stdin: Buffer | string): boolean {
    return this.send(ATTACH.STDIN, Buffer.from(stdin));
  }
  resize(rows: number, cols: number): void {
    const p = Buffer.alloc(4);
    p.writeUInt16BE(rows, 0);
    p.writeUInt16BE(cols, 2);
    this.send(ATTACH.RESIZE, p);
  }
  closeStdin(): void { this.send(ATTACH.CLOSE_STDIN); }
  close(): void { this.socket.destroy(); }
  private send(type: number, p?: Buffer): boolean {
    return this.socket.destroyed ? false : this.socket.write(attachFrame(type, p));
  }
}

export function attach(sockPath: string): Promise<Attachment> {
  return new Promise((resolve, reject) => {
    const s = net.connect(sockPath);
    s.once('connect', () => { s.removeAllListeners('error'); resolve(new Client(s)); });
    s.once('error', (e) => reject(new BerthError('Unavailable', `attach ${sockPath}: ${e.message}`, { cause: e })));
  });
}
