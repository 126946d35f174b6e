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

/// memmem(3): the first occurrence of the needle in the haystack, or NULL.
const void *spool_memmem(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length);

/// fallocate(2) with mode 0 (allocate and extend the file size). Returns 0, or -1 with errno set.
int spool_fallocate(int fd, int64_t offset, int64_t length);

/// pthread_setname_np(3) for the calling thread: `name` is at most 15 bytes. Returns 0 or an errno.
int spool_set_thread_name(const char *name);

#endif

// ---- Event loop support: epoll with its packed struct kept on the C side ----

#define SPOOL_EVENT_READ 1u
#define SPOOL_EVENT_WRITE 2u
#define SPOOL_EVENT_HANGUP 4u
#define SPOOL_EVENT_ERROR 8u

/// epoll_create1(EPOLL_CLOEXEC). Returns the descriptor, or -1 with errno set.
int spool_epoll_create(void);
/// Registers (op 0), changes (op 1) or removes (op 2) `fd` with interest in SPOOL_EVENT_* `events`
/// (level-triggered). Returns 0, or -1 with errno set.
int spool_epoll_control(int epfd, int op, int fd, uint32_t events);
/// Waits up to `timeout_ms` (-1: forever) and fills `fds`/`events` (SPOOL_EVENT_* bits) with at most
/// `capacity` ready descriptors. Returns their count, or -1 with errno set.
int spool_epoll_wait(int epfd, int32_t *fds, uint32_t *events, int capacity, int timeout_ms);
/// eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK).
int spool_eventfd(void);
/// timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK).
int spool_wall_timer(void);
/// Arms a CLOCK_REALTIME timerfd to expire at `ms` milliseconds since the Unix epoch (absolute;
/// a time already passed expires at once), cancelled (read fails with ECANCELED) when the wall
/// clock is set discontinuously. `ms` <= 0 disarms it. Returns 0, or -1 with errno set.
int spool_wall_timer_set(int fd, int64_t ms);
/// accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC).
int spool_accept(int fd);
/// A non-blocking TCP listener on `host` (IPv4 dotted quad) and `port` with SO_REUSEADDR; port 0
/// picks a free one. Returns the descriptor, or -1 with errno set.
int spool_listen_tcp(const char *host, uint16_t port, int backlog);
/// The local port of a bound socket, or -1.
int spool_local_port(int fd);
/// The peer address of a connected socket as "a.b.c.d:port" into `buffer`. Returns 0 or -1.
int spool_peer_name(int fd, char *buffer, size_t capacity);
/// TCP_NODELAY on.
int spool_set_nodelay(int fd);
