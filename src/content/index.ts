// content: owns blobs by digest (verified ingest, reads, GC); never interprets what a blob contains.
export { ContentStore, Writer, type Descriptor, type Platform, type Expected } from './store.js';
export { isDigest, checkDigest, hexOf, sha256, shortId } from './digest.js';
