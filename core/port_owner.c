// SPDX-License-Identifier: MIT
/*
 * Who holds a TCP port (port_owner.h): the socket's inode from /proc/net/tcp and tcp6, the
 * process whose fd table holds that inode, and whether that process has an mprds engine (its
 * control socket, "@mprds.<pid>", in /proc/net/unix). Only ever on a failed bind: it reads
 * every /proc/<pid>/fd this user may read.
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mprds/control.h"
#include "mprds/port_owner.h"

/* include/net/tcp_states.h: a bind conflicts with a listener, or a socket bound and no more */
#define TCP_CLOSE 0x07
#define TCP_LISTEN 0x0a

/* /proc/net/tcp{,6} print each 32-bit word of the address as a native integer in hex. */
static bool parse_proc_addr(const char *hex, struct in6_addr *out)
{
	size_t len = strlen(hex);
	char word[9] = { 0 };

	if (len != 8 && len != 32)
		return false;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < len / 8; i++) {
		uint32_t w;

		memcpy(word, hex + 8 * i, 8);
		w = (uint32_t)strtoul(word, NULL, 16);
		memcpy(&out->s6_addr[len == 8 ? 12 : 4 * i], &w, 4);
	}
	if (len == 8)
		out->s6_addr[10] = out->s6_addr[11] = 0xff;
	return true;
}

static bool is_any(const struct in6_addr *ip)
{
	static const uint8_t v4_any[16] = { [10] = 0xff, [11] = 0xff };

	return IN6_IS_ADDR_UNSPECIFIED(ip) || !memcmp(ip->s6_addr, v4_any, 16);
}

/* Does a socket bound to ip conflict with a bind to want (any address when unspecified)? */
static bool conflicts(const struct in6_addr *ip, const struct addr *want)
{
	return is_any(&want->ip) || is_any(ip) || !memcmp(ip, &want->ip, sizeof(*ip));
}

/* The inode of a socket bound to a conflicting address and port in file, or 0. */
static unsigned long inode_in(const char *file, const struct addr *a, uint16_t port, bool *kernel)
{
	FILE *f = fopen(file, "re");
	char line[512], hex[40];
	unsigned lport, state;
	unsigned long inode, found = 0;
	struct in6_addr ip;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %*u: %39[0-9A-Fa-f]:%x %*s %x %*s %*s %*s %*s %*s %lu", hex,
			   &lport, &state, &inode) != 4)
			continue;
		if (lport != port || (state != TCP_LISTEN && state != TCP_CLOSE) ||
		    !parse_proc_addr(hex, &ip) || !conflicts(&ip, a))
			continue;
		if (inode)
			found = inode;
		else if (state == TCP_LISTEN)
			*kernel = true; /* a listener no process holds: the kernel's own */
	}
	fclose(f);
	return found;
}

/* Does process pid hold the socket with this inode? */
static bool holds(const char *pid, unsigned long inode)
{
	char dir[64], path[320], link[64], want[40];
	struct dirent *e;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%s/fd", pid);
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		ssize_t n;

		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		found = n > 0 && (link[n] = 0, !strcmp(link, want));
	}
	closedir(d);
	return found;
}

/* The process that holds the socket with this inode, among those we may look into; or 0. */
static int holder_of(unsigned long inode)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int pid = 0;

	if (!d)
		return 0;
	while (!pid && (e = readdir(d)))
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && holds(e->d_name, inode))
			pid = atoi(e->d_name);
	closedir(d);
	return pid;
}

/* Does pid have an mprds engine, that is, its control socket (control.h)? */
static bool has_engine(int pid)
{
	FILE *f = fopen("/proc/net/unix", "re");
	char line[512], want[64];
	bool found = false;

	if (!f)
		return false;
	snprintf(want, sizeof(want), " @" CONTROL_NAME_PREFIX "%d\n", pid);
	while (!found && fgets(line, sizeof(line), f)) {
		size_t len = strlen(line), wlen = strlen(want);

		found = len >= wlen && !strcmp(line + len - wlen, want);
	}
	fclose(f);
	return found;
}

static void comm_of(int pid, char *buf, size_t n)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (!f || !fgets(buf, (int)n, f))
		snprintf(buf, n, "?");
	if (f)
		fclose(f);
	buf[strcspn(buf, "\n")] = 0;
}

enum port_owner_kind port_owner(const struct addr *a, uint16_t port, char *buf, size_t n)
{
	bool kernel = false;
	unsigned long inode = inode_in("/proc/net/tcp", a, port, &kernel);
	char comm[32];
	int pid;

	if (!inode)
		inode = inode_in("/proc/net/tcp6", a, port, &kernel);
	pid = inode ? holder_of(inode) : 0;
	if (!pid) {
		snprintf(buf, n, "%s",
			 kernel && !inode ? "the kernel (its rds_tcp module?)" :
					    "a process not visible here (a program that is not "
					    "mprds, or another user's mprds)");
		return PORT_OWNER_UNKNOWN;
	}
	comm_of(pid, comm, sizeof(comm));
	if (pid == getpid()) {
		snprintf(buf, n, "this process (%s), a TCP socket of its own", comm);
		return PORT_OWNER_OTHER;
	}
	snprintf(buf, n, "process %d (%s)", pid, comm);
	return has_engine(pid) ? PORT_OWNER_MPRDS : PORT_OWNER_OTHER;
}
