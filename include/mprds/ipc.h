/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_IPC_H
#define MPRDS_IPC_H

/*
 * The calls of a client process (the shim) to mprdsd, over the stream socket it got from the
 * rendezvous (daemon/rendezvous.h) once the hello was answered. One request, then one reply:
 * each is a header, then its data, name and control bytes, in host byte order (both ends are
 * on one host): the client writes a message's iovec as it is and reads a reply's data straight
 * into the caller's buffers.
 * The client sends the next request only after the reply, so the daemon holds at most one
 * reply per client (IPC_SEND_QUEUED has none); a reply to IPC_SOCKET carries the
 * application's fd (SCM_RIGHTS).
 *
 * The daemon checks every length before it uses it (daemon/ipc_check.c); a request that does
 * not parse ends that client, never the daemon.
 */

#include <stdint.h>

enum ipc_op {
	IPC_SOCKET = 1, /* flags: the type of socket(2); arg1: protocol */
	IPC_RELEASE, /* the client's last fd for id is closed */
	IPC_BIND, /* name: the address */
	IPC_CONNECT, /* name: the address */
	IPC_SENDMSG, /* flags; name, control, data: the message; datalen its full length */
	/* flags; arg1: name room (0: none); arg2: cache room; ctlroom; datalen: the data room */
	IPC_RECVMSG,
	IPC_GETSOCKNAME, /* arg1: name room */
	IPC_GETPEERNAME, /* arg1: name room */
	IPC_GETSOCKOPT, /* arg1: level, arg2: name; data: the caller's buffer; datalen its room */
	IPC_SETSOCKOPT, /* arg1: level, arg2: name; data: the value */
	IPC_IOCTL, /* arg1: request; data: the argument (IPC_IOCTL_ARG bytes), none for NULL */
	IPC_ADOPT, /* this new client holds what the client with token (data) holds: fork */
	/*
	 * As IPC_SENDMSG, with no reply: the client already returned success, spending the
	 * room (ipc_rep.optlen) the last IPC_SENDMSG reply for this socket and destination
	 * gave. The daemon queues it whatever (api_sendmsg_queued).
	 */
	IPC_SEND_QUEUED,
	/*
	 * No reply: the application took arg1 messages of datalen bytes in all that a
	 * IPC_RECVMSG reply lent to the client's cache (ipc_rep.lent).
	 */
	IPC_RECV_TAKEN,
	/*
	 * An RDS fd this client got from another process (SCM_RIGHTS) and recognised by its
	 * name (ipc_sock_name): id. The request carries the fd itself (SCM_RIGHTS), which the
	 * daemon checks is that socket, so that an id cannot be guessed into someone else's
	 * socket; no /proc look-up, which a daemon under a user of its own may not make into
	 * another user's process. Reply: 0 and the client holds it, or -errno (-EBADF: it is
	 * not that socket, or no fd came).
	 */
	IPC_ATTACH,
	/*
	 * No reply: the client is passing socket id to another process (SCM_RIGHTS): it stays
	 * alive until that one attaches it, IPC_PASSING_S seconds at most, whoever closes.
	 */
	IPC_PASSING,
	IPC_OP_LAST = IPC_PASSING,
};

#define IPC_MAX_NAME 128 /* sockaddr_storage */
#define IPC_MAX_CONTROL 4096
#define IPC_MAX_DATA (1u << 20) /* RDS_MAX_MSG_SIZE: a longer send fails with EMSGSIZE */
#define IPC_MAX_LEND 65536 /* the most a IPC_RECVMSG reply lends to the client's cache */
#define IPC_PASSING_S 10
#define IPC_IOCTL_ARG 1 /* SIOCRDSSETTOS, SIOCRDSGETTOS: one byte */
#define IPC_MAX_FRAME (64u + IPC_MAX_NAME + IPC_MAX_CONTROL + IPC_MAX_DATA)

struct ipc_req {
	uint32_t len; /* the whole frame, this header included */
	uint16_t op; /* enum ipc_op */
	uint16_t namelen; /* name bytes after the data */
	uint32_t id; /* the socket (0 for IPC_SOCKET and IPC_ADOPT) */
	int32_t flags;
	int32_t arg1, arg2;
	uint32_t ctllen; /* control bytes after the name */
	uint32_t ctlroom;
	/* the call's data length; the data bytes (after the header) may be fewer: the rest */
	uint64_t datalen;
};

struct ipc_rep {
	uint32_t len; /* the whole frame, this header included */
	uint32_t id; /* IPC_SOCKET: the new socket */
	int64_t ret; /* the call's return: a count, 0 or -errno */
	int32_t wait; /* api_would_wait(): what a blocking call waits for before it calls again */
	int32_t msg_flags;
	uint32_t datacount; /* data bytes after the header */
	uint32_t namelen; /* the name's full length; min(namelen, IPC_MAX_NAME) bytes follow */
	uint32_t ctllen; /* control bytes after the name */
	uint32_t optlen; /* IPC_GETSOCKOPT: the length the call set; IPC_SENDMSG: the room left */
	/*
	 * IPC_RECVMSG: messages that were waiting behind the one received, lent to the client's
	 * cache: lent records (struct api_lent, name, payload) of lentlen bytes after the control.
	 */
	uint32_t lent, lentlen;
};

#endif
