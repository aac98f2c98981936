/*
 * fuzz.h - what every libFuzzer target in fuzz/ shares.
 *
 * A target calls one pure parser on the fuzzer's bytes and then checks the
 * properties its header promises.  A broken property is a finding: it is
 * reported with FUZZ_CHECK, which aborts so libFuzzer saves the input, just
 * as it does for a sanitizer report.  Targets do no file I/O and free all
 * they allocate (LeakSanitizer runs at the end).
 */
#ifndef QVMR_FUZZ_H
#define QVMR_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The libFuzzer entry point; each fuzz_*.c defines it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Not assert(): it must hold whatever NDEBUG says. */
#define FUZZ_CHECK(cond)                                                    \
	do {                                                                \
		if (!(cond))                                                \
			fuzz_fail(__FILE__, __LINE__, #cond);               \
	} while (0)

__attribute__((noreturn)) static inline void
fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: property does not hold: %s\n", file, line,
		what);
	abort();
}

#endif
