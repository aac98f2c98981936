/*
 * incoming.c - the bytes of a deliver's stream into a file.
 */
#include "incoming.h"

#include "err.h"
#include "fileio.h"

#include "banned.h"

int
incoming_copy(FILE *in, int fd, uint64_t at, uint64_t skip, uint64_t n,
	      bool *bad)
{
	char chunk[65536];
	uint64_t pos = 0;

	while (pos < n) {
		size_t want = n - pos < sizeof(chunk) ? (size_t)(n - pos)
						      : sizeof(chunk);
		size_t got = fread(chunk, 1, want, in), drop = 0;

		if (got == 0)
			return QR_ERR_INCOMPLETE;
		if (pos < skip)
			drop = skip - pos < got ? (size_t)(skip - pos) : got;
		if (fd >= 0 && !*bad && got > drop &&
		    pwrite_all(fd, chunk + drop, got - drop,
			       (off_t)(at + pos + drop)) != 0)
			*bad = true;
		pos += got;
	}
	return 0;
}
