/* memstore.h: an in-memory struct fw_storage for unit tests. Thread-safe (one mutex), keys
 * kept sorted so list() answers in Vault's order. memstore_new() returns a new storage,
 * memstore_free() frees it and every entry (NULL ok). */
#ifndef PKIEXT_TEST_MEMSTORE_H
#define PKIEXT_TEST_MEMSTORE_H

#include <stddef.h>

#include "fw.h"

struct fw_storage *memstore_new(void);
void memstore_free(struct fw_storage *s);

/* Number of entries, for assertions. */
size_t memstore_count(struct fw_storage *s);

/* Makes the next `n` storage calls fail with ERR_INTERNAL (to test error paths). */
void memstore_fail_next(struct fw_storage *s, int n);

/* Makes the nth write (put or delete) from now fail with ERR_INTERNAL, once (1: the next
 * write). Writes before and after it succeed. */
void memstore_fail_write(struct fw_storage *s, int nth);
/* Puts and deletes so far (failed ones included). */
int memstore_writes(struct fw_storage *s);
/* Number of keys starting with prefix (at any depth). */
size_t memstore_count_prefix(struct fw_storage *s, const char *prefix);

#endif
