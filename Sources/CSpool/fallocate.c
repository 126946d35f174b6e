// fallocate(2) is a GNU extension that Swift's Glibc module does not expose.
#define _GNU_SOURCE
#include "cspool.h"

#include <fcntl.h>

int spool_fallocate(int fd, int64_t offset, int64_t length) {
    return fallocate(fd, 0, (off_t)offset, (off_t)length);
}
