// SPDX-License-Identifier: MIT
/* The rendezvous of clients and mprdsd (rendezvous.h says how and why). */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rendezvous.h"

#define ENSURE_TRIES 400 /* 400 x 5 ms: a daemon that cannot start in 2 s is not coming */
#define ENSURE_WAIT_NS 5000000L

bool rendezvous_hello_ok(const void *buf, size_t n)
{
	struct rendezvous_hello h;

	if (n != sizeof(h))
		return false;
	memcpy(&h, buf, sizeof(h));
	return h.magic == RENDEZVOUS_MAGIC && h.version == RENDEZVOUS_VERSION;
}

bool rendezvous_instance_ok(const char *instance)
{
	size_t n = instance ? strlen(instance) : 0;

	if (n > 32)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = instance[i];

		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') &&
		    c != '_' && c != '.' && c != '-')
			return false;
	}
	return true;
}

int rendezvous_addr(const char *instance, struct sockaddr_un *sun, socklen_t *len)
{
	struct stat st;
	int n;

	if (!rendezvous_instance_ok(instance))
		return -EINVAL;
	if (!instance || !*instance)
		instance = RENDEZVOUS_DEFAULT;
	/* Abstract names are per namespace already; the inode says which one in `ss -x`. */
	if (stat("/proc/self/ns/net", &st) < 0)
		st.st_ino = 0;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	n = snprintf(sun->sun_path + 1, sizeof(sun->sun_path) - 1, "mprdsd.%lu.%s",
		     (unsigned long)st.st_ino, instance);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
	return 0;
}

/* The daemon's end (bound, listening, non-blocking) or a client's (connected) of the name. */
static int open_named(const char *instance, bool serve)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd, err = rendezvous_addr(instance, &sun, &len);

	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | (serve ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return -errno;
	/* the daemon accepts every pending client, then polls again */
	err = serve ? (bind(fd, (struct sockaddr *)&sun, len) < 0 || listen(fd, 128) < 0) :
		      connect(fd, (struct sockaddr *)&sun, len) < 0;
	if (err) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int rendezvous_listen(const char *instance)
{
	return open_named(instance, true);
}

int rendezvous_connect(const char *instance)
{
	return open_named(instance, false);
}

/*
 * Where a started daemon logs: MPRDS_DAEMON_LOG, else mprdsd.<uid>.<instance>.log in
 * XDG_RUNTIME_DIR (the user's own) or /tmp; never a link, never another user's file.
 */
static int open_daemon_log(const char *instance)
{
	const char *path = getenv("MPRDS_DAEMON_LOG"), *dir = getenv("XDG_RUNTIME_DIR");
	char buf[512];
	struct stat st;
	int fd;

	if (!path || !*path) {
		snprintf(buf, sizeof(buf), "%s/mprdsd.%u.%s.log", dir && *dir ? dir : "/tmp",
			 (unsigned)getuid(), instance && *instance ? instance : RENDEZVOUS_DEFAULT);
		path = buf;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0 && (fstat(fd, &st) < 0 || st.st_uid != getuid())) {
		close(fd);
		fd = -1;
	}
	return fd >= 0 ? fd : open("/dev/null", O_WRONLY | O_CLOEXEC);
}

/* stdin and stdout from /dev/null, stderr to the log: no pipe of the client is held open. */
static void daemon_stdio(const char *instance)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC), log = open_daemon_log(instance);

	dup2(null, 0);
	dup2(null, 1);
	dup2(log >= 0 ? log : null, 2);
}

/* The daemon's process: its own session, stdio only, no preload, reparented to init. */
static void exec_detached(const char *instance, const char *daemon_path)
{
	if (setsid() < 0 || fork() != 0)
		_exit(0); /* the middle process ends at once: its parent reaps it */
	daemon_stdio(instance);
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	unsetenv("LD_PRELOAD");
	if (instance && *instance)
		execl(daemon_path, "mprdsd", "--instance", instance, (char *)NULL);
	else
		execl(daemon_path, "mprdsd", (char *)NULL);
	_exit(127);
}

static int start_daemon(const char *instance, const char *daemon_path)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -errno;
	if (pid == 0)
		exec_detached(instance, daemon_path);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return 0;
}

static int say_hello(int fd, struct rendezvous_welcome *w)
{
	struct rendezvous_hello h = { RENDEZVOUS_MAGIC, RENDEZVOUS_VERSION };
	ssize_t n;

	if (send(fd, &h, sizeof(h), MSG_NOSIGNAL) != (ssize_t)sizeof(h))
		return -EPROTO;
	while ((n = recv(fd, w, sizeof(*w), 0)) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(*w) || w->magic != RENDEZVOUS_MAGIC ||
	    w->version != RENDEZVOUS_VERSION)
		return n == 0 ? -ECONNRESET : -EPROTO;
	return 0;
}

int rendezvous_ensure(const char *instance, const char *daemon_path, struct rendezvous_welcome *w)
{
	struct timespec pause = { 0, ENSURE_WAIT_NS };
	bool started = false;
	int fd = -ECONNREFUSED, err;

	for (int i = 0; i < ENSURE_TRIES; i++) {
		fd = rendezvous_connect(instance);
		if (fd >= 0)
			break;
		if (fd != -ECONNREFUSED && fd != -ENOENT)
			return fd;
		/* Started once by us; others may start theirs: one binds, the rest exit. */
		if (!started) {
			err = start_daemon(instance, daemon_path);
			if (err)
				return err;
			started = true;
		}
		nanosleep(&pause, NULL);
	}
	if (fd < 0)
		return fd;
	err = say_hello(fd, w);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}
