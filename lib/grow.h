/*
 * grow.h - room for one more element at the end of an array.
 */
#ifndef QVMR_GROW_H
#define QVMR_GROW_H

#include <stddef.h>

/*
 * arr holds n of *cap elements of size bytes each.  With n < *cap returns
 * arr; else reallocates it to twice *cap (first when *cap is 0), updates
 * *cap and returns the new array.  NULL when that fails: arr and *cap are
 * then as they were, and arr is still the caller's to free.
 */
void *grow_array(void *arr, size_t *cap, size_t n, size_t size, size_t first);

#endif
