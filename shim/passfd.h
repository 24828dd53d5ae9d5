/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_SHIM_PASSFD_H
#define MPRDS_SHIM_PASSFD_H
/* RDS fds of mprdsd passed between processes (SCM_RIGHTS): passfd.c. */
#include <sys/socket.h>

/* Before a non-RDS sendmsg: RDS fds among its SCM_RIGHTS are announced to the daemon. */
void passfd_before_send(const struct msghdr *msg);
/* After a non-RDS recvmsg: fds that came with it and are RDS sockets join the table. */
void passfd_after_recv(const struct msghdr *msg);
/* The RDS fd is about to leave this process (SCM_RIGHTS, exec): the daemon keeps its socket. */
void passfd_announce(int fd);
/* fd, if it is an mprdsd socket's application end this process does not know, joins the table. */
void passfd_attach_if_ours(int fd);

#endif
