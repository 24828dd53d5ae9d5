// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the first bytes a client sends mprdsd (daemon/rendezvous.c): whatever
 * they are, the check answers without reading past them, and only the exact hello passes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/rendezvous.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a copy of exactly size bytes: ASan sees any read past the message */
	uint8_t *copy = size ? malloc(size) : NULL;
	struct rendezvous_hello h;
	bool ok;

	if (size && !copy)
		return 0;
	if (size)
		memcpy(copy, data, size);
	ok = rendezvous_hello_ok(copy, size);
	if (ok && (size != sizeof(h) || (memcpy(&h, copy, sizeof(h)), h.magic != RENDEZVOUS_MAGIC)))
		abort();
	free(copy);
	return 0;
}
