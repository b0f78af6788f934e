// monitor: starts and talks to berth-helper's per-container monitor (control socket, attach socket, exit file,
// json-file log); it never reads or writes container state of its own — that is containers/'s.
export { attach, type Attachment } from './attach.js';
export { parseLogLine, readLog, timeNs, type LogEntry, type ReadLogOptions } from './log.js';
export { ATTACH, attachFrame, FrameReader, LOG_LINE_MAX, MON } from './protocol.js';
export { launchMonitor, monitorPaths, readExitFile, runningMonitors, spawnIn, startMonitor, type ExitStatus, type LaunchedMonitor, type Monitor, type MonitorPaths, type StartMonitorOptions } from './start.js';
