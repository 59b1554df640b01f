/* fuzz_util.h: what every libFuzzer target here shares. */
#ifndef PKIEXT_FUZZ_UTIL_H
#define PKIEXT_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The input as a new NUL-terminated string (the parsers under test take C strings). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s) {
        memcpy(s, data, size);
        s[size] = '\0';
    }
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
