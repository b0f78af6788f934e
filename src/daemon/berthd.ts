#!/usr/bin/env node
// berthd's entry. V8 grows its young generation while a program's modules load and keeps it grown (no GC
// runs while berthd idles): capped here, before the daemon's modules (daemon/main) are read and run.
import { capYoungGeneration } from './heap.js';

capYoungGeneration();
await import('./main.js');
