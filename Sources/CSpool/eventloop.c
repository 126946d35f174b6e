// epoll and socket helpers for the server's event loops. struct epoll_event is packed on x86-64,
// which Swift cannot import faithfully, so it never leaves this file.
#define _GNU_SOURCE
#include "cspool.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

int spool_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

static uint32_t to_epoll(uint32_t events) {
    uint32_t mask = EPOLLRDHUP;
    if (events & SPOOL_EVENT_READ) mask |= EPOLLIN;
    if (events & SPOOL_EVENT_WRITE) mask |= EPOLLOUT;
    return mask;
}

int spool_epoll_control(int epfd, int op, int fd, uint32_t events) {
    struct epoll_event event;
    memset(&event, 0, sizeof event);
    event.events = to_epoll(events);
    event.data.fd = fd;
    int native = op == 0 ? EPOLL_CTL_ADD : op == 1 ? EPOLL_CTL_MOD : EPOLL_CTL_DEL;
    return epoll_ctl(epfd, native, fd, &event);
}

int spool_epoll_wait(int epfd, int32_t *fds, uint32_t *events, int capacity, int timeout_ms) {
    struct epoll_event ready[256];
    if (capacity > 256) capacity = 256;
    int count = epoll_wait(epfd, ready, capacity, timeout_ms);
    for (int i = 0; i < count; i++) {
        uint32_t mask = 0;
        if (ready[i].events & EPOLLIN) mask |= SPOOL_EVENT_READ;
        if (ready[i].events & EPOLLOUT) mask |= SPOOL_EVENT_WRITE;
        if (ready[i].events & (EPOLLHUP | EPOLLRDHUP)) mask |= SPOOL_EVENT_HANGUP;
        if (ready[i].events & EPOLLERR) mask |= SPOOL_EVENT_ERROR;
        fds[i] = ready[i].data.fd;
        events[i] = mask;
    }
    return count;
}

int spool_eventfd(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }

int spool_wall_timer(void) { return timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK); }

int spool_wall_timer_set(int fd, int64_t ms) {
    struct itimerspec spec;
    memset(&spec, 0, sizeof spec);
    if (ms <= 0) return timerfd_settime(fd, 0, &spec, NULL);
    spec.it_value.tv_sec = (time_t)(ms / 1000);
    spec.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
    return timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &spec, NULL);
}

int spool_accept(int fd) { return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC); }

int spool_listen_tcp(const char *host, uint16_t port, int backlog) {
    struct sockaddr_in address;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    if (inet_pton(AF_INET, host, &address.sin_addr) != 1) {
        errno = EINVAL;
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&address, sizeof address) < 0 || listen(fd, backlog) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int spool_local_port(int fd) {
    struct sockaddr_in address;
    socklen_t length = sizeof address;
    if (getsockname(fd, (struct sockaddr *)&address, &length) < 0) return -1;
    return ntohs(address.sin_port);
}

int spool_peer_name(int fd, char *buffer, size_t capacity) {
    struct sockaddr_in address;
    socklen_t length = sizeof address;
    if (getpeername(fd, (struct sockaddr *)&address, &length) < 0) return -1;
    char host[INET_ADDRSTRLEN];
    if (!inet_ntop(AF_INET, &address.sin_addr, host, sizeof host)) return -1;
    snprintf(buffer, capacity, "%s:%u", host, (unsigned)ntohs(address.sin_port));
    return 0;
}

int spool_set_nodelay(int fd) {
    int one = 1;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}
