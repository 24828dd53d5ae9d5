// SPDX-License-Identifier: MIT
/*
 * Requests from client processes, checked before anything is used: a client is untrusted
 * (DESIGN.md), so every length is bounded and must add up to the frame it came in.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "ipc_check.h"

size_t ipc_frame_len(const void *buf, size_t n)
{
	struct ipc_req h;

	if (n < sizeof(h))
		return 0;
	memcpy(&h, buf, sizeof(h));
	if (h.len < sizeof(h) || h.len > IPC_MAX_FRAME)
		return 0;
	return h.len;
}

/* Data a call carries: a message to send (all of it, or none when it is too long to send). */
static bool data_fits(const struct ipc_call *c)
{
	if (c->h.op == IPC_SENDMSG || c->h.op == IPC_SEND_QUEUED)
		return c->datacount == c->h.datalen ||
		       (c->datacount == 0 && c->h.datalen > IPC_MAX_DATA);
	return c->datacount <= c->h.datalen || c->h.op == IPC_ADOPT;
}

int ipc_call_parse(const void *buf, size_t n, struct ipc_call *c)
{
	const uint8_t *p = buf;
	size_t fixed;

	if (ipc_frame_len(buf, n) != n)
		return -EPROTO;
	memcpy(&c->h, buf, sizeof(c->h));
	if (c->h.op < IPC_SOCKET || c->h.op > IPC_OP_LAST || c->h.namelen > IPC_MAX_NAME ||
	    c->h.ctllen > IPC_MAX_CONTROL || c->h.ctlroom > IPC_MAX_CONTROL)
		return -EPROTO;
	fixed = sizeof(c->h) + c->h.namelen + c->h.ctllen;
	if (fixed > n || n - fixed > IPC_MAX_DATA)
		return -EPROTO;
	c->datacount = n - fixed;
	c->data = p + sizeof(c->h);
	c->name = c->data + c->datacount;
	c->control = c->name + c->h.namelen;
	return data_fits(c) ? 0 : -EPROTO;
}
