// SPDX-License-Identifier: MIT
/*
 * The fds the library owns in this process (every engine's and the shim's): one atomic byte per
 * fd, grown under a lock, never shrunk. Process-wide on purpose: it guards the process's fd table.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "mprds/fdreg.h"

#define FDREG_MAX (1 << 22)

/* Registry state, shared by the engine and the shim's close paths. */
static struct {
	pthread_mutex_t lock;
	_Atomic(_Atomic unsigned char *) bits;
	atomic_int size;
} reg = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void grow(int fd)
{
	int size = atomic_load(&reg.size), n = size ? size : 1024;
	_Atomic unsigned char *old = atomic_load(&reg.bits), *bits;

	while (n <= fd)
		n *= 2;
	bits = calloc((size_t)n, 1);
	if (!bits)
		return;
	for (int i = 0; i < size; i++)
		atomic_store(&bits[i], atomic_load(&old[i]));
	atomic_store(&reg.bits, bits);
	atomic_store(&reg.size, n);
	/* The old array may still be read by a concurrent fdreg_has(): it is leaked, not freed;
	 * it grows by doubling, so the leak is bounded by the largest array. */
}

void fdreg_add(int fd)
{
	if (fd < 0 || fd >= FDREG_MAX)
		return;
	pthread_mutex_lock(&reg.lock);
	if (fd >= atomic_load(&reg.size))
		grow(fd);
	if (fd < atomic_load(&reg.size))
		atomic_store(&atomic_load(&reg.bits)[fd], 1);
	pthread_mutex_unlock(&reg.lock);
}

void fdreg_del(int fd)
{
	int size = atomic_load(&reg.size);

	if (fd < 0 || fd >= size)
		return;
	atomic_store(&atomic_load(&reg.bits)[fd], 0);
}

bool fdreg_has(int fd)
{
	/* size first: grow() publishes the array before the size that covers it */
	int size = atomic_load(&reg.size);
	_Atomic unsigned char *bits = atomic_load(&reg.bits);

	if (fd < 0 || fd >= size || !bits)
		return false;
	return atomic_load(&bits[fd]) != 0;
}

int fdreg_next(int from)
{
	int size = atomic_load(&reg.size);
	_Atomic unsigned char *bits = atomic_load(&reg.bits);

	for (int fd = from < 0 ? 0 : from; bits && fd < size; fd++)
		if (atomic_load(&bits[fd]))
			return fd;
	return -1;
}

void fdreg_after_fork(void)
{
	_Atomic unsigned char *bits = atomic_load(&reg.bits);

	pthread_mutex_init(&reg.lock, NULL);
	for (int i = 0; bits && i < atomic_load(&reg.size); i++)
		atomic_store(&bits[i], 0);
}
