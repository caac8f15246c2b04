// Mailbox<T>: hands batches of items from any thread to one event loop's thread.
//
// A mutex-guarded vector and an eventfd the receiving loop watches. A sender writes the
// eventfd only when the box goes from empty to not empty, so a burst of pushes costs one
// wake-up; the receiver takes the whole batch in one swap. Internal to the scanner (the
// connect engine's lanes and the scheduler talk through two of these).
#pragma once

#include <sys/eventfd.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "sockit/result.hpp"
#include "sockit/unique_fd.hpp"
#include "sys/sys.hpp"

namespace sockit::scan {

template <class T>
class Mailbox {
 public:
  static Result<std::unique_ptr<Mailbox>> create() {
    int fd = sys::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) return Error::from_errno("eventfd");
    return std::unique_ptr<Mailbox>(new Mailbox(UniqueFd(fd)));
  }

  // Any thread. Moves the items out of `items` (left empty).
  void push(std::vector<T>& items) {
    if (items.empty()) return;
    bool was_empty;
    {
      std::lock_guard lock(mutex_);
      was_empty = box_.empty();
      if (was_empty) {
        box_.swap(items);
      } else {
        box_.insert(box_.end(), std::make_move_iterator(items.begin()),
                    std::make_move_iterator(items.end()));
      }
    }
    items.clear();
    if (was_empty) wake();
  }
  void push(T item) {
    bool was_empty;
    {
      std::lock_guard lock(mutex_);
      was_empty = box_.empty();
      box_.push_back(std::move(item));
    }
    if (was_empty) wake();
  }

  // The receiver's thread, when fd() is readable: everything pushed so far, into `out`
  // (which should be empty; its capacity is reused).
  void take(std::vector<T>& out) {
    // Clear the wake-up before taking: a push after the swap then wakes the loop again.
    std::uint64_t count;
    [[maybe_unused]] auto n = sys::read(fd_.get(), &count, sizeof count);
    std::lock_guard lock(mutex_);
    out.swap(box_);
  }

  int fd() const noexcept { return fd_.get(); }

 private:
  explicit Mailbox(UniqueFd fd) : fd_(std::move(fd)) {}
  void wake() {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = sys::write(fd_.get(), &one, sizeof one);
  }

  UniqueFd fd_;
  std::mutex mutex_;
  std::vector<T> box_;
};

}  // namespace sockit::scan
