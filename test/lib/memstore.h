/* memstore.h: an in-memory struct fw_storage for unit tests. Thread-safe (one mutex), keys
 * kept sorted so list() answers in Vault's order. memstore_new() returns a new storage,
 * memstore_free() frees it and every entry (NULL ok). */
#ifndef PKIEXT_TEST_MEMSTORE_H
#define PKIEXT_TEST_MEMSTORE_H

#include <stdbool.h>
#include <stddef.h>

#include "fw.h"

struct fw_storage *memstore_new(void);
void memstore_free(struct fw_storage *s);

/* Number of entries, for assertions. */
size_t memstore_count(struct fw_storage *s);

/* Makes the next `n` storage calls fail with ERR_INTERNAL (to test error paths). */
void memstore_fail_next(struct fw_storage *s, int n);

/* While on, put and delete fail with ERR_READ_ONLY and logical.ErrReadOnly's text, as a
 * Vault/OpenBao standby's storage answers; reads and lists still work. */
void memstore_set_read_only(struct fw_storage *s, bool on);

/* Lets `skip` more writes (put or delete) succeed, then fails the next one with
 * ERR_INTERNAL; a negative skip disarms. Reads are not counted. */
void memstore_fail_write_after(struct fw_storage *s, int skip);

/* Puts and deletes asked for so far (refused ones included). */
int memstore_writes(struct fw_storage *s);
/* Number of keys starting with prefix (at any depth). */
size_t memstore_count_prefix(struct fw_storage *s, const char *prefix);

#endif
