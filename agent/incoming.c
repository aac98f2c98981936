/*
 * incoming.c - the bytes of a deliver's stream into a file.
 */
#include "incoming.h"

#include "err.h"
#include "fileio.h"

#include "banned.h"

int
incoming_copy(FILE *in, int fd, uint64_t skip, uint64_t n, bool *bad)
{
	char chunk[65536];

	while (n > 0) {
		size_t want = n < sizeof(chunk) ? (size_t)n : sizeof(chunk);
		size_t got = fread(chunk, 1, want, in), drop;

		if (got == 0)
			return QR_ERR_INCOMPLETE;
		drop = skip < got ? (size_t)skip : got;
		skip -= drop;
		if (fd >= 0 && !*bad && got > drop &&
		    write_all(fd, chunk + drop, got - drop) != 0)
			*bad = true;
		n -= got;
	}
	return 0;
}
