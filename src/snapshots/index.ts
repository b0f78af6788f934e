// snapshots: owns layer directories and writable snapshots; returns Mount[] and never calls mount(2) (mount.ts is the one executor).
export { Snapshotter, type SnapshotInfo } from './overlay.js';
export { mountAll, mountOps, unmount, type Mount } from './mount.js';
export { applyLayer, cleanName, type UnpackOptions, type UnpackResult } from './unpack.js';
export { decompress, detect, type Compression } from './decompress.js';
export { chainIds } from './chain.js';
export { TarParser, type TarHandler } from './tar-reader.js';
export { TarWriter } from './tar-writer.js';
export { header, type TarHeader, type EntryType } from './tar-header.js';
