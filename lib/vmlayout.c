/*
 * vmlayout.c - the paths of qvm-remote's files in a VM's home.
 */
#include "vmlayout.h"

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "banned.h"

const char *const vm_request_suffix[VM_REQUEST_FILES] = { "", VM_INPUT,
							  VM_OPTIONS };

/* out = a "/" b */
static int
join(char out[PATH_MAX], const char *a, const char *b)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", a, b);

	return n < 0 || n >= PATH_MAX ? QR_ERR_TOO_LARGE : 0;
}

int
vm_layout_init(struct vm_layout *l, const char *home)
{
	size_t hl;
	int r;

	memset(l, 0, sizeof(*l));
	if (home == NULL || home[0] != '/')
		return QR_ERR_INVALID;
	hl = strlen(home);
	while (hl > 1 && home[hl - 1] == '/')
		hl--;
	if (hl >= sizeof(l->home))
		return QR_ERR_TOO_LARGE;
	memcpy(l->home, home, hl);
	l->home[hl] = '\0';
	if ((r = join(l->base, hl == 1 ? "" : l->home, VM_DIR)) != 0 ||
	    (r = join(l->key, l->base, VM_KEY)) != 0 ||
	    (r = join(l->audit, l->base, VM_AUDIT)) != 0 ||
	    (r = join(l->queue, l->base, VM_QUEUE)) != 0 ||
	    (r = join(l->pending, l->queue, VM_PENDING)) != 0 ||
	    (r = join(l->running, l->queue, VM_RUNNING)) != 0 ||
	    (r = join(l->results, l->queue, VM_RESULTS)) != 0 ||
	    (r = join(l->history, l->base, VM_HISTORY)) != 0)
		return r;
	return 0;
}
