// memmem(3) is a GNU extension that Swift's Glibc module does not expose.
#define _GNU_SOURCE
#include "cspool.h"

#include <string.h>

const void *spool_memmem(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length) {
    return memmem(haystack, haystack_length, needle, needle_length);
}
