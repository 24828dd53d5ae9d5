// SPDX-License-Identifier: MIT
/*
 * getsockopt(SOL_RDS, RDS_INFO_*) (socket-api.md §12) and mprds-info's own snapshots
 * (control.h): which producer answers each optname. As in the kernel's info.c, each table
 * is made by the room that owns its data (sock_info.c, conn_info.c, tcp_info.c) into the
 * output of info_out.c, so that rds-info and rds-stress read them unchanged. The kernel
 * answers for the whole host; an engine answers for its process (mprds-info asks every
 * engine on the host through the control socket, control.c).
 */
#include <errno.h>
#include <linux/rds.h>
#include <unistd.h>

#include "mprds/conn.h"
#include "mprds/conn_info.h"
#include "mprds/control.h"
#include "mprds/engine.h"
#include "mprds/info.h"
#include "mprds/info_out.h"
#include "mprds/sock_info.h"
#include "mprds/tcp_info.h"

struct info_source {
	int optname;
	size_t each;
	info_producer *fn;
	int flags;
};

/* The sources a kernel with rds_tcp and without rds_rdma registers; the rest: ENOPROTOOPT. */
static const struct info_source sources[] = {
	{ RDS_INFO_COUNTERS, sizeof(struct rds_info_counter), conn_info_counters, 0 },
	{ RDS_INFO_CONNECTIONS, sizeof(struct rds_info_connection), conn_info_connections, 0 },
	{ RDS_INFO_SEND_MESSAGES, sizeof(struct rds_info_message), conn_info_messages, 0 },
	{ RDS_INFO_RETRANS_MESSAGES, sizeof(struct rds_info_message), conn_info_messages,
	  INFO_RETRANS },
	{ RDS_INFO_RECV_MESSAGES, sizeof(struct rds_info_message), sock_info_recv_messages, 0 },
	{ RDS_INFO_SOCKETS, sizeof(struct rds_info_socket), sock_info_sockets, 0 },
	{ RDS_INFO_TCP_SOCKETS, sizeof(struct rds_info_tcp_socket), tcp_info_sockets, 0 },
	{ RDS6_INFO_CONNECTIONS, sizeof(struct rds6_info_connection), conn_info_connections,
	  INFO_V6 },
	{ RDS6_INFO_SEND_MESSAGES, sizeof(struct rds6_info_message), conn_info_messages, INFO_V6 },
	{ RDS6_INFO_RETRANS_MESSAGES, sizeof(struct rds6_info_message), conn_info_messages,
	  INFO_V6 | INFO_RETRANS },
	{ RDS6_INFO_RECV_MESSAGES, sizeof(struct rds6_info_message), sock_info_recv_messages,
	  INFO_V6 },
	{ RDS6_INFO_SOCKETS, sizeof(struct rds6_info_socket), sock_info_sockets, INFO_V6 },
	{ RDS6_INFO_TCP_SOCKETS, sizeof(struct rds6_info_tcp_socket), tcp_info_sockets, INFO_V6 },
};

/* rds_info_getsockopt(): the length checks, the buffer, then the source. */
int info_get(struct engine *e, int optname, void *buf, socklen_t *len)
{
	int err = info_out_check(buf, *len);

	if (err)
		return err;
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
		if (sources[i].optname == optname)
			return info_out_run(e, sources[i].fn, sources[i].flags, sources[i].each,
					    buf, len);
	return -ENOPROTOOPT;
}

int info_paths(struct engine *e, void *buf, socklen_t *len)
{
	int err = info_out_check(buf, *len);

	return err ? err :
		     info_out_run(e, conn_info_paths, 0, sizeof(struct control_path), buf, len);
}

/* The engine's settings and sizes: what no one room owns. */
static void process(struct info_out *o)
{
	struct control_process cp = { 0 };

	cp.pid = (uint32_t)getpid();
	cp.npaths = (uint32_t)o->eng->cfg.npaths;
	cp.tcp_port = o->eng->cfg.tcp_port;
	cp.gen_num = o->eng->cfg.gen_num;
	cp.sockets = (uint32_t)sock_info_count(o->eng);
	cp.connections = (uint32_t)conn_count(o->eng);
	info_out_put(o, &cp);
}

int info_process(struct engine *e, void *buf, socklen_t *len)
{
	int err = info_out_check(buf, *len);

	return err ? err : info_out_run(e, process, 0, sizeof(struct control_process), buf, len);
}
