// images: owns image records, references and the image verbs (pull, push, save, load, …); never mounts, runs or touches containers.
export { ImageService, defaultRoot, type ImageServiceOptions, type ResolvedImage } from './service.js';
export { ImageStore, type ImageRecord, type ManifestRef } from './store.js';
export { MT, parseManifest, parseIndex, parseConfig, detectType, selectPlatform, parsePlatform, formatPlatform, hostPlatform, isIndexType, isManifestType, type Manifest, type Index, type ImageConfig } from './manifest.js';
export { type ProgressMessage, type ProgressFn, bar } from './progress.js';
export type { PullOptions, PullResult } from './pull.js';
export type { PushOptions, PushResult } from './push.js';
export type { ImportOptions } from './import.js';
export type { SaveOptions, LoadOptions, LoadResult } from './archive.js';
export type { ListOptions, ImageSummary, ImageInspect, HistoryItem } from './inspect.js';
export type { RemoveOptions, PruneOptions, PruneReport, DeleteItem } from './remove.js';
