#!/usr/bin/env node
// berthd: the Docker Engine API daemon. Not built yet: it comes with the daemon issue; until then it says so.
process.stderr.write('berthd: the daemon is not implemented yet; use `berth runtime` for OCI bundles\n');
process.exitCode = 1;
