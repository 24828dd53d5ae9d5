/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_CONN_INFO_H
#define MPRDS_CONN_INFO_H
/* What RDS_INFO and mprds-info show of an engine's connections and paths: conn_info.c. */
#include "mprds/info_out.h"

/* RDS_INFO_CONNECTIONS, RDS6_INFO_CONNECTIONS (INFO_V6): path 0 of each connection. */
void conn_info_connections(struct info_out *o);
/* RDS(6)_INFO_SEND_MESSAGES, and RDS(6)_INFO_RETRANS_MESSAGES with INFO_RETRANS. */
void conn_info_messages(struct info_out *o);
/* RDS_INFO_COUNTERS: the kernel's counters, then mprds's per-path totals. */
void conn_info_counters(struct info_out *o);
/* CONTROL_INFO_PATHS (control.h): one struct control_path per path in use. */
void conn_info_paths(struct info_out *o);

#endif
