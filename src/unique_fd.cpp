#include "sockit/unique_fd.hpp"

#include "sys/sys.hpp"

namespace sockit {

void UniqueFd::reset(int fd) noexcept {
  // Never retried on EINTR: Linux has released the descriptor whatever close returns.
  if (fd_ >= 0) sys::close(fd_);
  fd_ = fd;
}

}  // namespace sockit
