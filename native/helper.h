/* helper.h — shared declarations of berth-helper. */
#ifndef BERTH_HELPER_H
#define BERTH_HELPER_H
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include "plan.h"
#include "sync.h"

#define MAX_FIELDS 8

struct field {
	char kind;
	uint64_t n;         /* number, or byte/list length */
	const char *s;
	const uint8_t *b;
	char **v;
};

struct op_format {
	const char *name;
	const char *fields;
};

struct op {
	uint32_t tag;
	const struct op_format *fmt;
	int n;
	struct field f[MAX_FIELDS];
};

const struct op_format *op_format(uint32_t tag);
int parse_op(uint32_t tag, const uint8_t *p, uint32_t len, struct op *op);
int parse_plan(const uint8_t *buf, size_t len, struct op **ops, size_t *nops);
void print_op(FILE *out, const struct op *op);

/* helper.c */
extern int sync_fd;
extern long cur_op;
/* exit status of bail(); the exec op sets 126/127 for a program that could not be started */
extern int bail_status;
int write_full(int fd, const void *buf, size_t len);
void send_msg(uint32_t type, const void *payload, uint32_t len);
int recv_msg(uint32_t *type, uint8_t **payload, uint32_t *len);
void wait_go(void);
__attribute__((noreturn, format(printf, 1, 2))) void bail(const char *fmt, ...);
__attribute__((noreturn, format(printf, 2, 3))) void bail_errno(int err, const char *fmt, ...);

/* ops.c */
void run_ops(struct op *ops, size_t n);

/* netlink.c: 1 when op is a network op (and ran), 0 when it is not one */
int run_net_op(const struct op *op);

/* wait.c */
__attribute__((noreturn)) void wait_child(pid_t child, int relay_sock);
int send_fd(int sock, int fd, const char *name);
int recv_fd(int sock);

/* monitor.c */
int monitor_main(int argc, char **argv);
/* berth-helper's own dispatch (main's): a monitor's child runs it without an exec (MON_SPAWN_SELF) */
int helper_run(int argc, char **argv);
/* a sealed memfd copy of this binary, made once (CVE-2019-5736); -1 and errno set on failure */
int sealed_self(void);


#endif
