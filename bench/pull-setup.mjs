// bench/pull-setup: writes an OCI layout holding one gzipped layer (made by GNU tar + gzip) for bench/pull.sh.
// usage: node bench/pull-setup.mjs LAYER.tar.gz OUTDIR
import { readFile } from 'node:fs/promises';
import { ociLayout } from '../dist/test/helpers/registry.js';

const [layer, out] = process.argv.slice(2);
const r = await ociLayout(out, [await readFile(layer)], { tag: 'minbase', cmd: ['/bin/bash'] });
process.stdout.write(JSON.stringify(r) + '\n');
