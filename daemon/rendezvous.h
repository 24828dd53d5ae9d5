/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_DAEMON_RENDEZVOUS_H
#define MPRDS_DAEMON_RENDEZVOUS_H
/*
 * How a client finds the mprdsd of its network namespace and instance, with no file system
 * and no root: the abstract AF_UNIX name "\0mprdsd.<netns inode>.<instance>". Abstract names
 * are per network namespace and binding one is atomic, so of daemons started at once exactly
 * one binds and serves; the others see EADDRINUSE and exit.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#define RENDEZVOUS_DEFAULT "default"
/* The abstract name of an instance's daemon: netns inode, instance (mprds-info reads it too). */
#define RENDEZVOUS_NAME_FMT "mprdsd.%lu.%s"
#define RENDEZVOUS_MAGIC 0x6d707264u /* "mprd" */
#define RENDEZVOUS_VERSION 2

/* A client's first message, and the daemon's answer. */
struct rendezvous_hello {
	unsigned magic, version;
} __attribute__((packed));

struct rendezvous_welcome {
	unsigned magic, version;
	int pid; /* the daemon's */
	unsigned gen_num; /* its engine's incarnation (wire.md §13) */
	unsigned clients; /* connected now, this one included */
	uint64_t token; /* names this client to IPC_ADOPT (a forked child's new channel) */
} __attribute__((packed));

/* Is this (n bytes from a client, untrusted) a hello the daemon answers? */
bool rendezvous_hello_ok(const void *buf, size_t n);
/* An instance name is 1..32 of [A-Za-z0-9_.-]; NULL or "" is the default instance. */
bool rendezvous_instance_ok(const char *instance);
/* The abstract address of instance (NULL: default) in this network namespace; 0 or -errno. */
int rendezvous_addr(const char *instance, struct sockaddr_un *sun, socklen_t *len);
/*
 * The name of RDS socket id of instance's daemon, which the daemon gives the application's
 * end of the socket, so that the fd says what it is when it reaches another process
 * (SCM_RIGHTS): the instance's name, then "#<id>". 0 or -errno.
 */
int rendezvous_sock_name(const char *instance, uint32_t id, struct sockaddr_un *sun,
			 socklen_t *len);
/* Is this (getsockname of an fd) a socket of instance's daemon? Then its id in *id. */
bool rendezvous_sock_id(const char *instance, const struct sockaddr_un *sun, socklen_t len,
			uint32_t *id);
/* The daemon's listening socket: -EADDRINUSE when another daemon serves the name. */
int rendezvous_listen(const char *instance);
/*
 * A connected client socket (a stream: ipc.h frames follow the hello), or -errno
 * (-ECONNREFUSED: no daemon serves the name).
 */
int rendezvous_connect(const char *instance);
/*
 * Connects to the daemon of instance, starting daemon_path (detached: its own session, no
 * inherited fds but stdio, no LD_PRELOAD, and no SIGCHLD for the caller) when none answers,
 * and waits for it, bounded. Returns the connected fd (the hello exchanged, *w filled;
 * close-on-exec) or -errno. Safe in a preloaded library: it runs no atfork handler.
 */
int rendezvous_ensure(const char *instance, const char *daemon_path, struct rendezvous_welcome *w);

#endif
