// seccomp: OCI / Docker seccomp profiles -> classic BPF bytes for the helper; never calls seccomp(2), never reads files.
export { compileSeccomp, SECCOMP_RET, AUDIT_ARCH, SECCOMP_FILTER_FLAG, BAD_ARCH_ACTION, X32_SYSCALL_BIT } from './compile.js';
export type { CompileOptions, CompiledSeccomp } from './compile.js';
export { dockerDefaultProfile, loadSeccompProfileJSON, sharedDockerDefaultProfile, DOCKER_DEFAULT_PROFILE } from './default-profile.js';
export type { DockerSeccompProfile, DockerSyscallRule, DockerProfileOptions } from './default-profile.js';
export * from './syscalls.js';
