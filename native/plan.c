/* plan.c — reads plan records and splits each payload into typed fields by one format table.
 * Both the executor and --decode-plan use it, so what is tested without root is what runs. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "helper.h"

/* Field kinds: u = u32, U = u64, i = i32, s = string, b = u32 length + bytes,
 * r = the rest of the payload as bytes, g = u32 count + u32 list, v = u32 count + strings. */
static const struct op_format formats[] = {
	[OP_SETNS] = {"SETNS", "u:nstype s:path"},
	[OP_CLONE] = {"CLONE", "u:flags u:detach u:relay"},
	[OP_SYNC_GO] = {"SYNC_GO", ""},
	[OP_SYNC_HOOK] = {"SYNC_HOOK", "u:point"},
	[OP_SETRESID] = {"SETRESID", "u:uid u:gid"},
	[OP_SETSID] = {"SETSID", ""},
	[OP_MOUNT] = {"MOUNT", "U:flags u:inroot u:mkdir s:src s:dst s:fstype s:data"},
	[OP_UMOUNT] = {"UMOUNT", "u:flags s:path"},
	[OP_MKNOD] = {"MKNOD", "u:mode U:dev u:uid u:gid u:inroot s:path"},
	[OP_SYMLINK] = {"SYMLINK", "u:inroot s:target s:path"},
	[OP_MKDIR] = {"MKDIR", "u:mode u:inroot s:path"},
	[OP_ROOT] = {"ROOT", "s:path"},
	[OP_PIVOT] = {"PIVOT", ""},
	[OP_MASK] = {"MASK", "s:path"},
	[OP_READONLY] = {"READONLY", "s:path"},
	[OP_WRITE] = {"WRITE", "u:optional s:path s:value"},
	[OP_HOSTNAME] = {"HOSTNAME", "s:name"},
	[OP_DOMAINNAME] = {"DOMAINNAME", "s:name"},
	[OP_SETXATTR] = {"SETXATTR", "u:inroot s:path s:name b:value"},
	[OP_CONSOLE] = {"CONSOLE", "u:rows u:cols i:fd"},
	[OP_RLIMIT] = {"RLIMIT", "u:resource U:soft U:hard"},
	[OP_PERSONALITY] = {"PERSONALITY", "u:persona"},
	[OP_KEEPCAPS] = {"KEEPCAPS", "u:on"},
	[OP_CAPBSET] = {"CAPBSET", "U:keep"},
	[OP_SETGROUPS] = {"SETGROUPS", "g:gids"},
	[OP_SETRESGID] = {"SETRESGID", "u:gid"},
	[OP_SETRESUID] = {"SETRESUID", "u:uid"},
	[OP_CAPSET] = {"CAPSET", "U:effective U:permitted U:inheritable"},
	[OP_AMBIENT] = {"AMBIENT", "U:mask"},
	[OP_UMASK] = {"UMASK", "u:mask"},
	[OP_NNP] = {"NNP", ""},
	[OP_SECCOMP] = {"SECCOMP", "u:flags r:filter"},
	[OP_CHDIR] = {"CHDIR", "s:path"},
	[OP_FIFO_OPEN] = {"FIFO_OPEN", "s:path s:proc"},
	[OP_READY] = {"READY", ""},
	[OP_FIFO_WAIT] = {"FIFO_WAIT", ""},
	[OP_LOOKUP] = {"LOOKUP", "s:pathenv s:name"},
	[OP_EXEC] = {"EXEC", "v:args v:env"},
	[OP_CLOEXEC_FROM] = {"CLOEXEC_FROM", "u:fd"},
	[OP_DUMPABLE] = {"DUMPABLE", "u:on"},
	[OP_SIGRESET] = {"SIGRESET", ""},
	[OP_LCHOWN] = {"LCHOWN", "u:uid u:gid u:inroot s:path"},
	[OP_BPF_DEVICES] = {"BPF_DEVICES", "s:cgroup r:insns"},
	[OP_CHROOT] = {"CHROOT", "s:path"},
	[OP_VETH] = {"VETH", "s:name s:peer s:master u:mtu u:nspid b:mac"},
	[OP_LINK_UP] = {"LINK_UP", "s:name"},
	[OP_LINK_DEL] = {"LINK_DEL", "u:optional s:name"},
	[OP_ADDR_ADD] = {"ADDR_ADD", "s:dev u:address u:prefix u:broadcast"},
	[OP_ROUTE_ADD] = {"ROUTE_ADD", "s:dev u:dst u:prefix u:gateway"},
	[OP_BRIDGE] = {"BRIDGE", "s:name u:mtu u:address u:prefix u:broadcast"},
	[OP_FSFLAGS] = {"FSFLAGS", "u:optional u:flags s:path"},
	[OP_SYNCFS] = {"SYNCFS", "s:path"},
	[OP_LEAVE_CGROUP] = {"LEAVE_CGROUP", "u:optional s:path"},
	[OP_WRITEBACK] = {"WRITEBACK", "u:inroot s:path"},
};

const struct op_format *op_format(uint32_t tag)
{
	if (tag >= sizeof formats / sizeof formats[0] || formats[tag].name == NULL)
		return NULL;
	return &formats[tag];
}

static int take(const uint8_t **p, const uint8_t *end, size_t n)
{
	if ((size_t)(end - *p) < n)
		return -1;
	*p += n;
	return 0;
}

/* A string must end inside the payload. */
static const char *take_str(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nul = memchr(*p, 0, (size_t)(end - *p));
	const char *s = (const char *)*p;
	if (nul == NULL)
		return NULL;
	*p = nul + 1;
	return s;
}

int parse_op(uint32_t tag, const uint8_t *p, uint32_t len, struct op *op)
{
	const struct op_format *f = op_format(tag);
	const uint8_t *end = p + len;
	uint32_t n, k;

	memset(op, 0, sizeof *op);
	if (f == NULL)
		return -1;
	op->tag = tag;
	op->fmt = f;
	/* each word of the format is "kind:name" */
	for (const char *c = f->fields; *c; c = strchr(c, ' ') ? strchr(c, ' ') + 1 : c + strlen(c)) {
		struct field *v;
		if (op->n == MAX_FIELDS)
			return -1;
		v = &op->f[op->n++];
		v->kind = *c;
		switch (*c) {
		case 'u':
		case 'i':
			if (take(&p, end, 4) < 0)
				return -1;
			memcpy(&n, p - 4, 4);
			v->n = *c == 'i' ? (uint64_t)(int64_t)(int32_t)n : n;
			break;
		case 'U':
			if (take(&p, end, 8) < 0)
				return -1;
			memcpy(&v->n, p - 8, 8);
			break;
		case 's':
			if ((v->s = take_str(&p, end)) == NULL)
				return -1;
			break;
		case 'b':
			if (take(&p, end, 4) < 0)
				return -1;
			memcpy(&n, p - 4, 4);
			v->b = p;
			v->n = n;
			if (take(&p, end, n) < 0)
				return -1;
			break;
		case 'r':
			v->b = p;
			v->n = (uint64_t)(end - p);
			p = end;
			break;
		case 'g':
			if (take(&p, end, 4) < 0)
				return -1;
			memcpy(&n, p - 4, 4);
			v->b = p;
			v->n = n;
			if (n > 65536 || take(&p, end, (size_t)n * 4) < 0)
				return -1;
			break;
		case 'v':
			if (take(&p, end, 4) < 0)
				return -1;
			memcpy(&n, p - 4, 4);
			if (n > (uint32_t)(end - p))
				return -1;
			v->v = calloc(n + 1, sizeof(char *));
			if (v->v == NULL)
				return -1;
			for (k = 0; k < n; k++)
				if ((v->v[k] = (char *)take_str(&p, end)) == NULL)
					return -1;
			v->n = n;
			break;
		default:
			return -1;
		}
	}
	return p == end ? 0 : -1;
}

int parse_plan(const uint8_t *buf, size_t len, struct op **ops, size_t *nops)
{
	size_t cap = 64, n = 0, off = 0;
	struct op *v = calloc(cap, sizeof *v);

	if (v == NULL)
		return -1;
	while (off < len) {
		uint32_t tag, rlen;
		if (len - off < 8)
			return -1;
		memcpy(&tag, buf + off, 4);
		memcpy(&rlen, buf + off + 4, 4);
		off += 8;
		if (rlen > len - off)
			return -1;
		if (n == cap) {
			struct op *nv = realloc(v, cap * 2 * sizeof *v);
			if (nv == NULL)
				return -1;
			v = nv;
			cap *= 2;
		}
		if (parse_op(tag, buf + off, rlen, &v[n]) < 0) {
			*nops = n; /* index of the bad record, for the error */
			return -1;
		}
		n++;
		off += rlen;
	}
	*ops = v;
	*nops = n;
	return 0;
}

/* --decode-plan: one line per op, fields as name=value, no syscall made. */
void print_op(FILE *out, const struct op *op)
{
	const char *names = op->fmt->fields;
	fputs(op->fmt->name, out);
	for (int i = 0; i < op->n; i++) {
		const struct field *v = &op->f[i];
		const char *colon = strchr(names, ':');
		const char *sp = colon ? strchr(colon, ' ') : NULL;
		int nlen = colon ? (int)((sp ? sp : colon + strlen(colon)) - colon - 1) : 0;
		fprintf(out, " %.*s=", nlen, colon ? colon + 1 : "");
		switch (v->kind) {
		case 'u':
		case 'U':
			fprintf(out, "%llu", (unsigned long long)v->n);
			break;
		case 'i':
			fprintf(out, "%lld", (long long)(int64_t)v->n);
			break;
		case 's':
			fprintf(out, "\"%s\"", v->s);
			break;
		case 'b':
		case 'r':
			fprintf(out, "<%llu bytes>", (unsigned long long)v->n);
			break;
		case 'g':
			for (uint64_t k = 0; k < v->n; k++) {
				uint32_t g;
				memcpy(&g, v->b + k * 4, 4);
				fprintf(out, "%s%u", k ? "," : "", g);
			}
			break;
		case 'v':
			fputc('[', out);
			for (uint64_t k = 0; k < v->n; k++)
				fprintf(out, "%s\"%s\"", k ? "," : "", v->v[k]);
			fputc(']', out);
			break;
		}
		names = sp ? sp + 1 : names + strlen(names);
	}
	fputc('\n', out);
}
