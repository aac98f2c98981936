/*
 * keycmd.h - `qvm-remote key gen|show|import|fingerprint`, and loading the
 * key for a request.
 *
 * The key is shown only by `key show`; it is never taken from argv
 * (`key import` reads stdin).
 */
#ifndef QVMR_CLIENT_KEYCMD_H
#define QVMR_CLIENT_KEYCMD_H

#include "args.h"
#include "key.h"
#include "paths.h"

/* Reads ~/.qvm-remote/auth.key; on failure prints what to do and returns
 * the error. */
int key_load(const struct vm_layout *p, struct key *k);

/* Runs `key ACTION`; returns the exit code. */
int keycmd_run(const struct vm_layout *p, const struct args *a);

#endif
