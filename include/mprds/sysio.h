/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_SYSIO_H
#define MPRDS_SYSIO_H

/*
 * Raw system calls for the core's own use. The shim interposes read, write, recv, close...
 * in this very library, and the application's RDS fd is in its table: the core must reach
 * the kernel directly or it would call back into itself.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

ssize_t sys_read(int fd, void *buf, size_t n);
ssize_t sys_write(int fd, const void *buf, size_t n);
ssize_t sys_send_nowait(int fd, const void *buf, size_t n);
ssize_t sys_recv_nowait(int fd, void *buf, size_t n);
/*
 * read() of a socket with SO_TIMESTAMPNS on: *stamp_ns is when the last segment read
 * arrived at this host, on CLOCK_MONOTONIC (ns; the kernel stamps it on the realtime clock,
 * which can be set), 0 if the kernel gave no time.
 */
ssize_t sys_read_stamped(int fd, void *buf, size_t n, uint64_t *stamp_ns);
int sys_close(int fd);
/* Reads the SO_RCVTIMEO or SO_SNDTIMEO kept on fd, in milliseconds; -1 means none. */
int sys_timeout_ms(int fd, int optname);
/* Bytes written to TCP socket fd that its peer has not acknowledged (SIOCOUTQ). */
long sys_tcp_unacked(int fd);
/* Is O_NONBLOCK set on fd? */
int sys_is_nonblocking(int fd);

#endif
