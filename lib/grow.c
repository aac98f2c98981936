/*
 * grow.c - doubling arrays (grow.h).
 */
#include "grow.h"

#include <stdint.h>
#include <stdlib.h>

#include "banned.h"

void *
grow_array(void *arr, size_t *cap, size_t n, size_t size, size_t first)
{
	size_t want;
	void *p;

	if (n < *cap)
		return arr;
	if (*cap > SIZE_MAX / 2)
		return NULL;
	want = *cap ? *cap * 2 : first;
	if (want == 0 || size == 0 || want > SIZE_MAX / size)
		return NULL;
	if ((p = realloc(arr, want * size)) == NULL)
		return NULL;
	*cap = want;
	return p;
}
