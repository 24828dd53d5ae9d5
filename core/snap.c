// SPDX-License-Identifier: MIT
/* The byte and fd stream of an engine's state (snap.h). */
#include <endian.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mprds/snap.h"

#define SNAP_NO_FD UINT32_MAX

void snap_out_init(struct snap_out *o)
{
	memset(o, 0, sizeof(*o));
}

void snap_out_fini(struct snap_out *o)
{
	free(o->buf);
	free(o->fds);
	snap_out_init(o);
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 4096 / elem;
	void *q;

	if (need <= *cap)
		return true;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * elem);
	if (!q)
		return false;
	*p = q;
	*cap = n;
	return true;
}

void snap_raw(struct snap_out *o, const void *p, size_t n)
{
	if (o->failed || !grow((void **)&o->buf, &o->cap, o->len + n, 1)) {
		o->failed = true;
		return;
	}
	if (n)
		memcpy(o->buf + o->len, p, n);
	o->len += n;
}

void snap_u8(struct snap_out *o, uint8_t v)
{
	snap_raw(o, &v, 1);
}

void snap_u16(struct snap_out *o, uint16_t v)
{
	v = htole16(v);
	snap_raw(o, &v, sizeof(v));
}

void snap_u32(struct snap_out *o, uint32_t v)
{
	v = htole32(v);
	snap_raw(o, &v, sizeof(v));
}

void snap_u64(struct snap_out *o, uint64_t v)
{
	v = htole64(v);
	snap_raw(o, &v, sizeof(v));
}

void snap_f64(struct snap_out *o, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	snap_u64(o, bits);
}

void snap_blob(struct snap_out *o, const void *p, uint32_t n)
{
	snap_u32(o, n);
	snap_raw(o, p, n);
}

void snap_addr(struct snap_out *o, const struct addr *a)
{
	snap_raw(o, &a->ip, sizeof(a->ip));
	snap_u32(o, a->scope);
}

void snap_fd(struct snap_out *o, int fd)
{
	unsigned i;
	size_t cap = o->fds_cap;

	if (fd < 0) {
		snap_u32(o, SNAP_NO_FD);
		return;
	}
	for (i = 0; i < o->nfds && o->fds[i] != fd; i++)
		;
	if (i == o->nfds) {
		if (!grow((void **)&o->fds, &cap, o->nfds + 1, sizeof(int))) {
			o->failed = true;
			return;
		}
		o->fds_cap = (unsigned)cap;
		o->fds[o->nfds++] = fd;
	}
	snap_u32(o, i);
}

void snap_in_init(struct snap_in *in, const uint8_t *buf, size_t len, int *fds, unsigned nfds)
{
	memset(in, 0, sizeof(*in));
	in->buf = buf;
	in->len = len;
	in->fds = fds;
	in->nfds = nfds;
	in->taken = calloc(nfds ? nfds : 1, 1);
	if (!in->taken)
		snap_fail(in, "out of memory");
}

void snap_in_fini(struct snap_in *in)
{
	free(in->taken);
	free(in->objs);
	in->taken = NULL;
	in->objs = NULL;
}

void snap_fail(struct snap_in *in, const char *why)
{
	if (!in->bad)
		strncpy(in->why, why, sizeof(in->why) - 1);
	in->bad = true;
}

void snap_get_raw(struct snap_in *in, void *p, size_t n)
{
	if (!n)
		return;
	if (!in->bad && in->len - in->off < n)
		snap_fail(in, "the snapshot ends early");
	if (in->bad) {
		memset(p, 0, n);
		return;
	}
	memcpy(p, in->buf + in->off, n);
	in->off += n;
}

void snap_get_addr(struct snap_in *in, struct addr *a)
{
	snap_get_raw(in, &a->ip, sizeof(a->ip));
	a->scope = snap_get_u32(in);
}

uint8_t snap_get_u8(struct snap_in *in)
{
	uint8_t v;

	snap_get_raw(in, &v, 1);
	return v;
}

uint16_t snap_get_u16(struct snap_in *in)
{
	uint16_t v;

	snap_get_raw(in, &v, sizeof(v));
	return le16toh(v);
}

uint32_t snap_get_u32(struct snap_in *in)
{
	uint32_t v;

	snap_get_raw(in, &v, sizeof(v));
	return le32toh(v);
}

uint64_t snap_get_u64(struct snap_in *in)
{
	uint64_t v;

	snap_get_raw(in, &v, sizeof(v));
	return le64toh(v);
}

double snap_get_f64(struct snap_in *in)
{
	uint64_t bits = snap_get_u64(in);
	double v;

	memcpy(&v, &bits, sizeof(v));
	return v;
}

bool snap_get_bool(struct snap_in *in)
{
	return snap_get_u8(in) != 0;
}

uint32_t snap_get_count(struct snap_in *in, uint32_t max)
{
	uint32_t n = snap_get_u32(in);

	if (n > max) {
		snap_fail(in, "a count beyond its bound");
		return 0;
	}
	return n;
}

uint32_t snap_get_blob(struct snap_in *in, const uint8_t **p, uint32_t max)
{
	uint32_t n = snap_get_count(in, max);

	*p = NULL;
	if (!in->bad && in->len - in->off < n)
		snap_fail(in, "the snapshot ends early");
	if (in->bad)
		return 0;
	*p = in->buf + in->off;
	in->off += n;
	return n;
}

int snap_get_fd(struct snap_in *in)
{
	uint32_t i = snap_get_u32(in);
	int fd;

	if (in->bad || i == SNAP_NO_FD)
		return -1;
	if (i >= in->nfds || in->fds[i] < 0) {
		snap_fail(in, "an fd missing");
		return -1;
	}
	fd = in->fds[i];
	in->taken[i] = 1;
	return fd;
}

void *snap_get_obj(struct snap_in *in)
{
	uint32_t id = snap_get_u32(in);

	if (in->bad || !id)
		return NULL;
	if (id > in->nobjs || !in->objs[id - 1]) {
		snap_fail(in, "an object id out of range");
		return NULL;
	}
	return in->objs[id - 1];
}

void snap_in_close_rest(struct snap_in *in)
{
	for (unsigned i = 0; i < in->nfds; i++) {
		if (in->fds[i] >= 0 && !(in->taken && in->taken[i]))
			close(in->fds[i]);
		in->fds[i] = -1;
	}
}
