// api/schema/volume: moby api/types/volume CreateOptions.
import { obj, str, strMap } from './dsl.js';

export const volumeCreate = obj({ Name: str, Driver: str, DriverOpts: strMap, Labels: strMap });
