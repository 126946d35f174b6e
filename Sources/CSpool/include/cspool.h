// CSpool: the few things Glibc does not expose to Swift, and hardware CRC32C.
#ifndef CSPOOL_H
#define CSPOOL_H

#include <stddef.h>
#include <stdint.h>

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) of `length` bytes, continuing from `crc`
/// (0 to start). The pre- and post-inversion is done inside, as zlib's crc32() does, so that
/// spool_crc32c(spool_crc32c(0, a), b) == spool_crc32c(0, a ++ b).
/// Uses SSE4.2 when the CPU has it (checked once at load time), a slicing-by-8 table otherwise.
uint32_t spool_crc32c(uint32_t crc, const void *data, size_t length);

/// The table implementation, always available; exposed so tests can compare both paths.
uint32_t spool_crc32c_software(uint32_t crc, const void *data, size_t length);

/// The SSE4.2 implementation. Call only when spool_crc32c_hardware_available() returns 1.
uint32_t spool_crc32c_hardware(uint32_t crc, const void *data, size_t length);

/// 1 when the CPU supports the SSE4.2 crc32 instruction, 0 otherwise.
int spool_crc32c_hardware_available(void);

/// fallocate(2) with mode 0 (allocate and extend the file size). Returns 0, or -1 with errno set.
int spool_fallocate(int fd, int64_t offset, int64_t length);

#endif
