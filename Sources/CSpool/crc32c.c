// CRC-32C for Kafka RecordBatch v2: SSE4.2 when available, slicing-by-8 otherwise.
#include "cspool.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>
#define SPOOL_X86 1
#endif

static uint32_t table[8][256];
static int hardware_available = 0;

// Tables and CPU detection are set up once when the library loads, before any Swift code can call
// in, so the hot path reads them without synchronisation.
__attribute__((constructor)) static void spool_crc32c_init(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t crc = n;
        for (int k = 0; k < 8; k++) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        table[0][n] = crc;
    }
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t crc = table[0][n];
        for (int k = 1; k < 8; k++) {
            crc = table[0][crc & 0xff] ^ (crc >> 8);
            table[k][n] = crc;
        }
    }
#ifdef SPOOL_X86
    __builtin_cpu_init();
    hardware_available = __builtin_cpu_supports("sse4.2") ? 1 : 0;
#endif
}

int spool_crc32c_hardware_available(void) { return hardware_available; }

uint32_t spool_crc32c_software(uint32_t crc, const void *data, size_t length) {
    const unsigned char *p = data;
    crc = ~crc;
    while (length > 0 && ((uintptr_t)p & 7) != 0) {
        crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
        length--;
    }
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    // Eight bytes at a time; the byte loops around it are endian-neutral.
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        word ^= crc;
        crc = table[7][word & 0xff] ^ table[6][(word >> 8) & 0xff] ^ table[5][(word >> 16) & 0xff] ^
              table[4][(word >> 24) & 0xff] ^ table[3][(word >> 32) & 0xff] ^
              table[2][(word >> 40) & 0xff] ^ table[1][(word >> 48) & 0xff] ^ table[0][word >> 56];
        p += 8;
        length -= 8;
    }
#endif
    while (length-- > 0) crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

#ifdef SPOOL_X86
__attribute__((target("sse4.2"))) uint32_t spool_crc32c_hardware(uint32_t crc, const void *data,
                                                                  size_t length) {
    const unsigned char *p = data;
    uint64_t c = ~crc;
    while (length > 0 && ((uintptr_t)p & 7) != 0) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        length--;
    }
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        c = _mm_crc32_u64(c, word);
        p += 8;
        length -= 8;
    }
    while (length-- > 0) c = _mm_crc32_u8((uint32_t)c, *p++);
    return ~(uint32_t)c;
}
#else
uint32_t spool_crc32c_hardware(uint32_t crc, const void *data, size_t length) {
    return spool_crc32c_software(crc, data, length);
}
#endif

uint32_t spool_crc32c(uint32_t crc, const void *data, size_t length) {
    if (hardware_available) return spool_crc32c_hardware(crc, data, length);
    return spool_crc32c_software(crc, data, length);
}
