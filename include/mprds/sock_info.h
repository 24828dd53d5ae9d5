/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_SOCK_INFO_H
#define MPRDS_SOCK_INFO_H
/* What RDS_INFO shows of an engine's sockets (socket-api.md §12): sock_info.c. */
#include <stddef.h>

#include "mprds/info_out.h"

/* RDS_INFO_SOCKETS, RDS6_INFO_SOCKETS (INFO_V6): every socket the application holds. */
void sock_info_sockets(struct info_out *o);
/* RDS_INFO_RECV_MESSAGES, RDS6_INFO_RECV_MESSAGES: what waits on their receive queues. */
void sock_info_recv_messages(struct info_out *o);
/* The sockets the application holds, bound or not. */
size_t sock_info_count(struct engine *e);

#endif
