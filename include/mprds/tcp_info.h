/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_TCP_INFO_H
#define MPRDS_TCP_INFO_H
/* What RDS_INFO shows of the TCP transport's connections: tcp_info.c. */
#include "mprds/info_out.h"

/* RDS_INFO_TCP_SOCKETS, RDS6_INFO_TCP_SOCKETS (INFO_V6): every established TCP connection. */
void tcp_info_sockets(struct info_out *o);

#endif
