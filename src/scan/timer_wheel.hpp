// TimerWheel: the deadlines of every probe in flight, in O(1) per add, remove and expiry.
//
// A scan has up to hundreds of thousands of probes waiting at once, most of which will
// never be answered (dead hosts, firewalls). Each costs one entry here — no loop timer,
// no heap node. Entries are small integers (the scheduler's probe slots, below
// `capacity`), linked into one of `slots` buckets of `tick` each (a hashed wheel: Varghese
// and Lauck, 1987). A deadline further away than one turn of the wheel sits in its bucket
// and is skipped until its turn comes. A bitmap of non-empty buckets gives the next
// deadline to arm the one loop timer with.
//
// Single-threaded. Internal to the scanner.
#pragma once

#include <bit>
#include <chrono>
#include <cstdint>
#include <limits>
#include <vector>

namespace sockit::scan {

class TimerWheel {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

  TimerWheel(std::uint32_t capacity, Clock::duration tick, std::uint32_t slots,
             Clock::time_point start)
      : tick_(tick),
        start_(start),
        entries_(capacity),
        heads_(std::bit_ceil(slots), kNone),
        nonempty_(heads_.size() / 64 + 1, 0) {}

  // Schedules `entry` (not already scheduled) for `deadline`.
  void add(std::uint32_t entry, Clock::time_point deadline) {
    Entry& e = entries_[entry];
    e.tick = std::max(to_tick(deadline), done_ + 1);  // a past deadline fires next expiry
    const std::uint32_t slot = slot_of(e.tick);
    e.prev = kNone;
    e.next = heads_[slot];
    if (e.next != kNone) entries_[e.next].prev = entry;
    heads_[slot] = entry;
    e.scheduled = true;
    mark(slot);
    ++size_;
  }

  void remove(std::uint32_t entry) {
    Entry& e = entries_[entry];
    if (!e.scheduled) return;
    const std::uint32_t slot = slot_of(e.tick);
    if (e.prev != kNone)
      entries_[e.prev].next = e.next;
    else
      heads_[slot] = e.next;
    if (e.next != kNone) entries_[e.next].prev = e.prev;
    if (heads_[slot] == kNone) unmark(slot);
    e.scheduled = false;
    --size_;
  }

  bool scheduled(std::uint32_t entry) const { return entries_[entry].scheduled; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  // Removes every entry due at `now` and calls fn(entry) for each; fn may add and remove
  // entries (an added entry is never due in the same call).
  template <class Fn>
  void expire(Clock::time_point now, Fn&& fn) {
    const std::uint64_t target = to_tick(now);
    while (done_ < target && size_ > 0) {
      // Jump over empty buckets a turn at a time at most.
      const std::uint64_t next = next_nonempty_tick(done_ + 1, target);
      if (next > target) {
        done_ = target;
        break;
      }
      // Take the due entries out first: fn may remove or add others in the same bucket.
      due_.clear();
      for (std::uint32_t entry = heads_[slot_of(next)]; entry != kNone;) {
        const std::uint32_t following = entries_[entry].next;
        if (entries_[entry].tick <= next) {
          remove(entry);
          due_.push_back(entry);
        }
        entry = following;
      }
      done_ = next;
      for (std::uint32_t entry : due_)
        fn(entry);
    }
    if (size_ == 0 && done_ < target) done_ = target;
  }

  // A time at or before the earliest deadline (the start of its bucket's next turn), or
  // Clock::time_point::max() when nothing is scheduled.
  Clock::time_point next_deadline() const {
    if (size_ == 0) return Clock::time_point::max();
    const std::uint64_t next = next_nonempty_tick(done_ + 1, done_ + heads_.size());
    return start_ + tick_ * static_cast<Clock::rep>(next);
  }

 private:
  struct Entry {
    std::uint64_t tick = 0;
    std::uint32_t prev = kNone;
    std::uint32_t next = kNone;
    bool scheduled = false;
  };

  std::uint64_t to_tick(Clock::time_point t) const {
    if (t <= start_) return 0;
    // Round up: an entry never fires before its deadline.
    return static_cast<std::uint64_t>((t - start_ + tick_ - Clock::duration(1)) / tick_);
  }
  std::uint32_t slot_of(std::uint64_t tick) const {
    return static_cast<std::uint32_t>(tick & (heads_.size() - 1));
  }
  void mark(std::uint32_t slot) { nonempty_[slot / 64] |= std::uint64_t{1} << (slot % 64); }
  void unmark(std::uint32_t slot) { nonempty_[slot / 64] &= ~(std::uint64_t{1} << (slot % 64)); }

  // The first tick in [from, limit] whose bucket holds anything, or limit + 1. Scans at most
  // one turn of the wheel, 64 buckets a step.
  std::uint64_t next_nonempty_tick(std::uint64_t from, std::uint64_t limit) const {
    const std::uint64_t n = heads_.size();
    const std::uint64_t end = std::min(limit, from + n - 1);
    std::uint64_t tick = from;
    while (tick <= end) {
      const std::uint32_t slot = slot_of(tick);
      const std::uint64_t word = nonempty_[slot / 64] >> (slot % 64);
      if (word != 0) {
        const std::uint64_t found = tick + static_cast<std::uint64_t>(std::countr_zero(word));
        return found <= end ? found : limit + 1;
      }
      tick += 64 - slot % 64;  // to the next word's first bucket
    }
    return limit + 1;
  }

  Clock::duration tick_;
  Clock::time_point start_;
  std::vector<Entry> entries_;
  std::vector<std::uint32_t> heads_;
  std::vector<std::uint64_t> nonempty_;
  std::vector<std::uint32_t> due_;
  std::uint64_t done_ = 0;  // every tick up to this one has been expired
  std::size_t size_ = 0;
};

}  // namespace sockit::scan
