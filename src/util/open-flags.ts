// util/open-flags: open(2) flags Node's fs.constants lacks; Node passes open(2) flags through as given.

/** An fd that only names a file (no reads or writes): walks, fstat, *at calls through /proc/self/fd/N. */
export const O_PATH = 0o10000000;
