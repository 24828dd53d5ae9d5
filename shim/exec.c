// SPDX-License-Identifier: MIT
/*
 * RDS fds across exec, as a kernel RDS socket survives it. Before an exec, each RDS fd the
 * new image inherits (no FD_CLOEXEC) is announced to mprdsd as in flight (IPC_PASSING, as for
 * SCM_RIGHTS: passfd.c), so that its socket outlives this image's channel, which the exec
 * closes; the new image's shim, as it starts, finds those fds by their names and attaches
 * them. An exec that fails leaves the holds to expire (IPC_PASSING_S). The in-process engine
 * cannot do this: its sockets live in the image the exec replaces.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "exports.h"
#include "passfd.h"
#include "shim.h"

/* The RDS fds that the exec about to happen hands to the new image. */
static void announce_inherited(void)
{
	unsigned int n = atomic_load_explicit(&shim_nfds, memory_order_acquire);
	int saved_errno = errno;

	if (!shim_use_daemon())
		return;
	for (unsigned int fd = 0; fd < n; fd++) {
		int flags;

		if (!shim_peek((int)fd))
			continue;
		flags = REAL(fcntl)((int)fd, F_GETFD);
		if (flags >= 0 && !(flags & FD_CLOEXEC))
			passfd_announce((int)fd);
	}
	errno = saved_errno;
}

/* At start-up: RDS fds this image inherited from the one before the exec (or from a parent). */
__attribute__((constructor)) static void attach_inherited(void)
{
	int saved_errno = errno;
	struct dirent *d;
	DIR *dir;

	if (!shim_use_daemon() || !(dir = opendir("/proc/self/fd")))
		return;
	while ((d = readdir(dir))) {
		struct stat st;
		char *end;
		long fd = strtol(d->d_name, &end, 10);

		if (*end || fd < 0 || fd == dirfd(dir) || fstat((int)fd, &st) ||
		    !S_ISSOCK(st.st_mode))
			continue;
		passfd_attach_if_ours((int)fd);
	}
	closedir(dir);
	errno = saved_errno;
}

int execve(const char *path, char *const argv[], char *const envp[])
{
	announce_inherited();
	return REAL(execve)(path, argv, envp);
}

int execv(const char *path, char *const argv[])
{
	announce_inherited();
	return REAL(execv)(path, argv);
}

int execvp(const char *file, char *const argv[])
{
	announce_inherited();
	return REAL(execvp)(file, argv);
}

int execvpe(const char *file, char *const argv[], char *const envp[])
{
	announce_inherited();
	return REAL(execvpe)(file, argv, envp);
}

int fexecve(int fd, char *const argv[], char *const envp[])
{
	announce_inherited();
	return REAL(fexecve)(fd, argv, envp);
}

int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
		const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	announce_inherited();
	return REAL(posix_spawn)(pid, path, actions, attr, argv, envp);
}

int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *actions,
		 const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	announce_inherited();
	return REAL(posix_spawnp)(pid, file, actions, attr, argv, envp);
}

/*
 * The execl family: the arguments up to the NULL, as an argv (and execle's environment after
 * it), to the execv family above. At most ARG_MAX_COUNT of them, as a bound on the stack.
 */
#define ARG_MAX_COUNT 4096

static int collect_args(const char *arg, va_list ap, const char **argv)
{
	int n = 0;

	argv[n++] = arg;
	while (arg && n < ARG_MAX_COUNT) {
		arg = va_arg(ap, const char *);
		argv[n++] = arg;
	}
	if (arg) {
		errno = E2BIG;
		return -1;
	}
	return n;
}

/* execl and execlp: the list, as an argv, to their execv-family twin (exec). */
static int exec_list(int (*exec)(const char *, char *const[]), const char *path, const char *arg,
		     va_list ap)
{
	const char *argv[ARG_MAX_COUNT + 1];
	int n = collect_args(arg, ap, argv);

	return n < 0 ? -1 : exec(path, (char *const *)argv);
}

int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	int ret;

	va_start(ap, arg);
	ret = exec_list(execv, path, arg, ap);
	va_end(ap);
	return ret;
}

int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	int ret;

	va_start(ap, arg);
	ret = exec_list(execvp, file, arg, ap);
	va_end(ap);
	return ret;
}

int execle(const char *path, const char *arg, ...)
{
	const char *argv[ARG_MAX_COUNT + 1];
	char *const *envp;
	va_list ap;
	int n;

	va_start(ap, arg);
	n = collect_args(arg, ap, argv);
	envp = n < 0 ? NULL : va_arg(ap, char *const *);
	va_end(ap);
	return n < 0 ? -1 : execve(path, (char *const *)argv, envp);
}
