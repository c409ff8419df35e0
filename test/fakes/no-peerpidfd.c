/*
 * LD_PRELOAD shim: a kernel before 6.5, which has no SO_PEERPIDFD. getsockopt for it
 * fails with ENOPROTOOPT, as those kernels answer; everything else is the real call.
 * Lets a test run the pidfd_open fallback of native/peer_check.h on a new kernel.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

int getsockopt(int fd, int level, int name, void *value, socklen_t *len) {
  if (level == SOL_SOCKET && name == 77 /* SO_PEERPIDFD */) {
    errno = ENOPROTOOPT;
    return -1;
  }
  return (int)syscall(SYS_getsockopt, fd, level, name, value, len);
}
