// api/schema/exec: the bodies of exec create and start, from moby's swagger (ExecConfig, ExecStartConfig)
// and api/types/container exec_create_request.go / exec_start_request.go.
import { bool, list, obj, str, strs, uint64 } from './dsl.js';

/** [height, width]; swagger: exactly two, not negative */
const consoleSize = list({ ...uint64 }, { minItems: 2, maxItems: 2 });

/** POST /containers/{id}/exec. Cmd is a list here (no strslice); "Detach" is what older clients still send. */
export const execCreate = obj({
  AttachStdin: bool, AttachStdout: bool, AttachStderr: bool, ConsoleSize: consoleSize, DetachKeys: str, Tty: bool,
  Env: strs, Cmd: strs, Privileged: bool, User: str, WorkingDir: str, Detach: bool,
});

/** POST /exec/{id}/start */
export const execStart = obj({ Detach: bool, Tty: bool, ConsoleSize: consoleSize });
