// SPDX-License-Identifier: MIT
/* The rendezvous of clients and mprdsd (rendezvous.h says how and why). */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mprds/log.h"
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
	n = snprintf(sun->sun_path + 1, sizeof(sun->sun_path) - 1, RENDEZVOUS_NAME_FMT,
		     (unsigned long)st.st_ino, instance);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
	return 0;
}

int rendezvous_sock_name(const char *instance, uint32_t id, struct sockaddr_un *sun, socklen_t *len)
{
	size_t used;
	int n, err = rendezvous_addr(instance, sun, len);

	if (err)
		return err;
	used = *len - offsetof(struct sockaddr_un, sun_path);
	n = snprintf(sun->sun_path + used, sizeof(sun->sun_path) - used, "#%u", (unsigned)id);
	if (n < 0 || (size_t)n >= sizeof(sun->sun_path) - used)
		return -ENAMETOOLONG;
	*len += (socklen_t)n;
	return 0;
}

bool rendezvous_sock_id(const char *instance, const struct sockaddr_un *sun, socklen_t len,
			uint32_t *id)
{
	struct sockaddr_un base;
	socklen_t blen;
	char digits[16];
	size_t n, off = offsetof(struct sockaddr_un, sun_path);
	char *end;
	unsigned long v;

	if (rendezvous_addr(instance, &base, &blen) || len <= blen + 1 || len > sizeof(*sun) ||
	    memcmp(sun, &base, blen) || sun->sun_path[blen - off] != '#')
		return false;
	n = len - blen - 1;
	if (n >= sizeof(digits))
		return false;
	memcpy(digits, sun->sun_path + (blen - off) + 1, n);
	digits[n] = 0;
	v = strtoul(digits, &end, 10);
	if (*end || !n || v > UINT32_MAX)
		return false;
	*id = (uint32_t)v;
	return true;
}

/* The daemon's end (bound, listening, non-blocking) or a client's (connected) of the name. */
/*
 * Abstract names have no owner: any local user may bind an instance's name before its daemon
 * does and play the daemon to other users' processes. A client talks only to a daemon run by
 * its own user, root, a system account (uid < 1000: a service's own user) or a systemd
 * DynamicUser (mprdsd.service); an ordinary user's or nobody's is refused.
 */
#define SYSTEM_UID_MAX 999
#define DYNAMIC_UID_MIN 61184
#define DYNAMIC_UID_MAX 65519

static bool daemon_trusted(uid_t uid)
{
	return uid == geteuid() || uid <= SYSTEM_UID_MAX ||
	       (uid >= DYNAMIC_UID_MIN && uid <= DYNAMIC_UID_MAX);
}

static int check_daemon(int fd, const char *instance)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	if (daemon_trusted(cred.uid))
		return 0;
	log_warn("the mprdsd of instance %s answers as uid %u (pid %d), neither root, a system "
		 "account, nor this user (%u): refused; is it an impostor?",
		 instance && *instance ? instance : RENDEZVOUS_DEFAULT, (unsigned)cred.uid,
		 (int)cred.pid, (unsigned)geteuid());
	return -EACCES;
}

static int open_named(const char *instance, bool serve)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd, err = rendezvous_addr(instance, &sun, &len);

	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (serve ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return -errno;
	/* the daemon accepts every pending client, then polls again */
	err = serve ? (bind(fd, (struct sockaddr *)&sun, len) < 0 || listen(fd, 128) < 0) :
		      connect(fd, (struct sockaddr *)&sun, len) < 0;
	err = err ? -errno : serve ? 0 : check_daemon(fd, instance);
	if (err) {
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

/* mprdsd.<uid>.<instance>.log in XDG_RUNTIME_DIR (the user's own), else in /tmp. */
static void default_log_path(const char *instance, char *buf, size_t size)
{
	const char *dir = getenv("XDG_RUNTIME_DIR");

	snprintf(buf, size, "%s/mprdsd.%u.%s.log", dir && *dir ? dir : "/tmp", (unsigned)getuid(),
		 instance && *instance ? instance : RENDEZVOUS_DEFAULT);
}

/*
 * A log file to append to: never through a link, never another user's file (a device such
 * as /dev/null is the user's choice). The fd, or -1 with *why set.
 */
static int open_log_file(const char *path, const char **why)
{
	struct stat st;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0) {
		*why = strerror(errno);
		return -1;
	}
	if (fstat(fd, &st) < 0 || (S_ISREG(st.st_mode) && st.st_uid != getuid())) {
		close(fd);
		*why = "another user's file";
		return -1;
	}
	return fd;
}

/*
 * Where a started daemon logs: MPRDS_DAEMON_LOG, else the default path; one that cannot be
 * written is said (the daemon's lines would be lost without a word), and /dev/null is last.
 */
static int open_daemon_log(const char *instance)
{
	const char *env = getenv("MPRDS_DAEMON_LOG"), *why = NULL;
	char path[512];
	int fd;

	default_log_path(instance, path, sizeof(path));
	if (env && *env) {
		fd = open_log_file(env, &why);
		if (fd >= 0)
			return fd;
		log_warn("MPRDS_DAEMON_LOG=%s cannot be written (%s): mprdsd logs to %s", env, why,
			 path);
	}
	fd = open_log_file(path, &why);
	if (fd >= 0)
		return fd;
	log_warn("mprdsd's log %s cannot be written (%s): its lines are lost; set "
		 "MPRDS_DAEMON_LOG",
		 path, why);
	return open("/dev/null", O_WRONLY | O_CLOEXEC);
}

/* What the daemon's process gets, all made before the clone: the child only makes syscalls. */
struct spawn {
	const char *path;
	char *argv[4];
	char **envp; /* ours without LD_PRELOAD */
	int log_fd, null_fd;
};

/*
 * A fork that runs no atfork handler and sends no SIGCHLD (exit signal 0): the application
 * that preloads us never sees the daemon's birth. 0 in the child, as fork().
 */
static pid_t quiet_fork(void)
{
	return (pid_t)syscall(SYS_clone, 0L, NULL, NULL, NULL, 0L);
}

/* The daemon's process: its own session, stdio only, reparented to init. */
static void exec_detached(const struct spawn *sp)
{
	if (setsid() < 0 || quiet_fork() != 0)
		_exit(0); /* the middle process ends at once: its parent reaps it */
	dup2(sp->null_fd, 0);
	dup2(sp->null_fd, 1);
	dup2(sp->log_fd, 2);
	syscall(SYS_close_range, 3U, ~0U, 0U);
	execve(sp->path, sp->argv, sp->envp);
	_exit(127);
}

static char **env_without_preload(void)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 1, sizeof(*env));
	for (size_t i = 0; env && i < n; i++)
		if (strncmp(environ[i], "LD_PRELOAD=", 11))
			env[k++] = environ[i];
	return env;
}

static int start_daemon(const char *instance, const char *daemon_path)
{
	struct spawn sp = { .path = daemon_path, .argv = { "mprdsd", NULL, NULL, NULL } };
	int status, err = 0;
	pid_t pid;

	if (instance && *instance) {
		sp.argv[1] = "--instance";
		sp.argv[2] = (char *)instance;
	}
	sp.envp = env_without_preload();
	sp.null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	sp.log_fd = open_daemon_log(instance);
	if (!sp.envp || sp.null_fd < 0 || sp.log_fd < 0)
		err = -ENOMEM;
	else if ((pid = quiet_fork()) < 0)
		err = -errno;
	else if (pid == 0)
		exec_detached(&sp);
	else
		while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR)
			;
	free(sp.envp);
	if (sp.log_fd >= 0)
		close(sp.log_fd);
	if (sp.null_fd >= 0)
		close(sp.null_fd);
	return err;
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
