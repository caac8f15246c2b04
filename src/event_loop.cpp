#include "sockit/event_loop.hpp"

#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>

#include "sys/sys.hpp"

namespace sockit {
namespace {

// epoll's user data carries the fd and the slot's generation, so an event queued for a
// descriptor that was unwatched (and perhaps reused) earlier in the same batch is ignored.
std::uint64_t pack(int fd, std::uint32_t generation) {
  return (std::uint64_t{generation} << 32) | static_cast<std::uint32_t>(fd);
}

struct Later {
  template <typename E>
  bool operator()(const E& a, const E& b) const noexcept {
    return a.deadline > b.deadline;
  }
};

}  // namespace

// --- handles --------------------------------------------------------------------------

Watch::Watch(Watch&& other) noexcept
    : loop_(std::exchange(other.loop_, nullptr)), fd_(std::exchange(other.fd_, -1)) {}

Watch& Watch::operator=(Watch&& other) noexcept {
  if (this != &other) {
    reset();
    loop_ = std::exchange(other.loop_, nullptr);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void Watch::reset() noexcept {
  if (loop_ != nullptr) loop_->unwatch(fd_);
  loop_ = nullptr;
  fd_ = -1;
}

Result<void> Watch::modify(std::uint32_t interest) {
  if (loop_ == nullptr) return Error::from_errno(EBADF, "epoll_ctl(MOD)");
  return loop_->modify(fd_, interest);
}

std::uint32_t Watch::interest() const noexcept {
  return loop_ != nullptr ? loop_->slots_[static_cast<std::size_t>(fd_)].interest : 0;
}

Timer::Timer(Timer&& other) noexcept
    : loop_(std::exchange(other.loop_, nullptr)),
      index_(other.index_),
      generation_(other.generation_) {}

Timer& Timer::operator=(Timer&& other) noexcept {
  if (this != &other) {
    cancel();
    loop_ = std::exchange(other.loop_, nullptr);
    index_ = other.index_;
    generation_ = other.generation_;
  }
  return *this;
}

void Timer::cancel() noexcept {
  if (loop_ != nullptr) loop_->cancel_timer(index_, generation_);
  loop_ = nullptr;
}

bool Timer::active() const noexcept {
  return loop_ != nullptr && loop_->timer_live(index_, generation_);
}

SignalWatch::SignalWatch(SignalWatch&& other) noexcept
    : loop_(std::exchange(other.loop_, nullptr)), signo_(other.signo_) {}

SignalWatch& SignalWatch::operator=(SignalWatch&& other) noexcept {
  if (this != &other) {
    reset();
    loop_ = std::exchange(other.loop_, nullptr);
    signo_ = other.signo_;
  }
  return *this;
}

void SignalWatch::reset() noexcept {
  if (loop_ != nullptr) loop_->remove_signal(signo_);
  loop_ = nullptr;
}

// --- setup ----------------------------------------------------------------------------

Result<std::unique_ptr<EventLoop>> EventLoop::create() {
  int ep = sys::epoll_create();
  if (ep < 0) return Error::from_errno("epoll_create1");
  UniqueFd epoll(ep);
  int ev = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (ev < 0) return Error::from_errno("eventfd");
  std::unique_ptr<EventLoop> loop(new EventLoop(std::move(epoll), UniqueFd(ev)));
  int wake_fd = loop->wake_.get();
  EventLoop* self = loop.get();
  if (auto r = loop->add(
          wake_fd, kReadable, [self](std::uint32_t) { self->drain_wake(); }, true);
      !r) {
    return std::move(r).error();
  }
  return loop;
}

EventLoop::EventLoop(UniqueFd epoll, UniqueFd wake)
    : epoll_(std::move(epoll)), wake_(std::move(wake)), now_(Clock::now()) {
  sigemptyset(&signal_mask_);
}

EventLoop::~EventLoop() {
  // Give back signals we blocked, so the thread behaves as before the loop existed.
  if (signal_handlers_count_ > 0) ::pthread_sigmask(SIG_UNBLOCK, &signal_mask_, nullptr);
}

// --- descriptors ----------------------------------------------------------------------

Result<Watch> EventLoop::watch(int fd, std::uint32_t interest, Handler handler) {
  if (auto r = add(fd, interest, std::move(handler), false); !r) return std::move(r).error();
  return Watch(this, fd);
}

Result<void> EventLoop::add(int fd, std::uint32_t interest, Handler handler, bool internal) {
  if (fd < 0) return Error::from_errno(EBADF, "epoll_ctl(ADD)");
  auto index = static_cast<std::size_t>(fd);
  if (index >= slots_.size()) slots_.resize(std::max(index + 1, slots_.size() * 2));
  Slot& slot = slots_[index];
  if (slot.used) return Error::from_errno(EEXIST, "epoll_ctl(ADD)");
  epoll_event ev{};
  ev.events = interest;
  ev.data.u64 = pack(fd, slot.generation + 1);
  if (sys::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) < 0) {
    return Error::from_errno("epoll_ctl(ADD)");
  }
  ++slot.generation;
  slot.handler = std::move(handler);
  slot.interest = interest;
  slot.used = true;
  slot.internal = internal;
  if (!internal) ++user_watches_;
  return {};
}

Result<void> EventLoop::modify(int fd, std::uint32_t interest) {
  Slot& slot = slots_[static_cast<std::size_t>(fd)];
  if (slot.interest == interest) return {};
  epoll_event ev{};
  ev.events = interest;
  ev.data.u64 = pack(fd, slot.generation);
  if (sys::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev) < 0) {
    return Error::from_errno("epoll_ctl(MOD)");
  }
  slot.interest = interest;
  return {};
}

void EventLoop::unwatch(int fd) noexcept {
  auto index = static_cast<std::size_t>(fd);
  if (index >= slots_.size() || !slots_[index].used) return;
  Slot& slot = slots_[index];
  // Fails harmlessly with EBADF if the descriptor was already closed (which removed it).
  sys::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  slot.used = false;
  ++slot.generation;
  if (!slot.internal) --user_watches_;
  slot.handler.reset();  // empty if it is running: dispatch() holds it until it returns
}

int EventLoop::dispatch(int count) {
  for (int i = 0; i < count; ++i) {
    const std::uint64_t data = events_[i].data.u64;
    const int fd = static_cast<int>(static_cast<std::uint32_t>(data));
    const auto generation = static_cast<std::uint32_t>(data >> 32);
    Slot& slot = slots_[static_cast<std::size_t>(fd)];
    if (!slot.used || slot.generation != generation) continue;  // unwatched this turn
    // Call the handler from a local: it may unwatch itself (which must not destroy the
    // lambda that is running) or watch more descriptors (which may grow slots_ and move
    // every slot). It goes back unless its watch ended or was replaced meanwhile.
    Handler handler = std::move(slot.handler);
    handler(events_[i].events);
    Slot& after = slots_[static_cast<std::size_t>(fd)];
    if (after.used && after.generation == generation) after.handler = std::move(handler);
  }
  return count;
}

// --- timers ---------------------------------------------------------------------------

Timer EventLoop::after(Clock::duration delay, Task task) {
  return add_timer(delay, Clock::duration::zero(), std::move(task));
}

Timer EventLoop::every(Clock::duration interval, Task task) {
  // A zero interval would fire every turn forever; one nanosecond is the shortest period.
  return add_timer(interval, std::max(interval, Clock::duration(1)), std::move(task));
}

Timer EventLoop::add_timer(Clock::duration delay, Clock::duration interval, Task task) {
  std::uint32_t index;
  if (!free_timers_.empty()) {
    index = free_timers_.back();
    free_timers_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(timers_.size());
    timers_.emplace_back();
  }
  TimerSlot& slot = timers_[index];
  slot.task = std::move(task);
  slot.interval = interval;
  slot.live = true;
  ++live_timers_;
  // Deadlines count from the real time now, not the turn's cached time, so a timer set
  // late in a long turn still waits its full delay.
  heap_.push_back(
      {Clock::now() + std::max(delay, Clock::duration::zero()), index, slot.generation});
  std::push_heap(heap_.begin(), heap_.end(), Later());
  return Timer(this, index, slot.generation);
}

bool EventLoop::timer_live(std::uint32_t index, std::uint32_t generation) const noexcept {
  return index < timers_.size() && timers_[index].live && timers_[index].generation == generation;
}

void EventLoop::cancel_timer(std::uint32_t index, std::uint32_t generation) noexcept {
  if (!timer_live(index, generation)) return;
  TimerSlot& slot = timers_[index];
  slot.live = false;
  ++slot.generation;  // its heap entry is now stale and will be skipped
  slot.task.reset();
  free_timers_.push_back(index);
  --live_timers_;
  // Lazy deletion leaves dead entries behind; rebuild when they dominate, so a loop that
  // sets and cancels many timeouts (a scanner) keeps a heap the size of its live timers.
  if (heap_.size() > 64 && heap_.size() > 4 * live_timers_) {
    std::erase_if(heap_, [this](const HeapEntry& e) { return !timer_live(e.index, e.generation); });
    std::make_heap(heap_.begin(), heap_.end(), Later());
  }
}

void EventLoop::run_timers() {
  // Only timers due at the start of this turn: a repeating timer re-armed below with a
  // deadline still in the past waits for the next turn.
  const auto due = now_;
  std::size_t budget = heap_.size();
  while (!heap_.empty() && heap_.front().deadline <= due && budget-- > 0) {
    HeapEntry entry = heap_.front();
    std::pop_heap(heap_.begin(), heap_.end(), Later());
    heap_.pop_back();
    if (!timer_live(entry.index, entry.generation)) continue;
    TimerSlot& slot = timers_[entry.index];
    Task task = std::move(slot.task);
    if (slot.interval > Clock::duration::zero()) {
      // Next beat on the original schedule, or from now if we fell more than one behind.
      auto next = entry.deadline + slot.interval;
      if (next <= due) next = due + slot.interval;
      heap_.push_back({next, entry.index, entry.generation});
      std::push_heap(heap_.begin(), heap_.end(), Later());
      task();
      // The task may have cancelled its own timer (or others, moving `timers_`).
      if (timer_live(entry.index, entry.generation)) timers_[entry.index].task = std::move(task);
    } else {
      slot.live = false;
      ++slot.generation;
      free_timers_.push_back(entry.index);
      --live_timers_;
      task();
    }
  }
}

// --- signals --------------------------------------------------------------------------

Result<SignalWatch> EventLoop::on_signal(int signo, SignalHandler handler) {
  const std::string context = "signal " + std::to_string(signo);
  if (signo <= 0 || signo >= 65) return Error::from_errno(EINVAL, context);
  // Registration is membership of signal_mask_ (a running handler is out of its slot).
  if (sigismember(&signal_mask_, signo) == 1) return Error::from_errno(EEXIST, context);
  sigset_t mask = signal_mask_;
  sigaddset(&mask, signo);
  int fd = ::signalfd(signal_ ? signal_.get() : -1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0) return Error::from_errno(context);
  if (!signal_) {
    signal_.reset(fd);
    if (auto r = add(
            fd, kReadable, [this](std::uint32_t) { read_signals(); }, true);
        !r) {
      signal_.reset();
      return std::move(r).error();
    }
  }
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, signo);
  ::pthread_sigmask(SIG_BLOCK, &one, nullptr);
  signal_mask_ = mask;
  signal_handlers_[signo] = std::move(handler);
  ++signal_handlers_count_;
  return SignalWatch(this, signo);
}

void EventLoop::remove_signal(int signo) noexcept {
  if (sigismember(&signal_mask_, signo) != 1) return;
  signal_handlers_[signo].reset();  // empty if it is running: read_signals() holds it
  --signal_handlers_count_;
  sigdelset(&signal_mask_, signo);
  ::signalfd(signal_.get(), &signal_mask_, SFD_CLOEXEC | SFD_NONBLOCK);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, signo);
  ::pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
}

void EventLoop::read_signals() noexcept {
  signalfd_siginfo info[8];
  ssize_t n = sys::read(signal_.get(), info, sizeof info);
  if (n <= 0) return;
  for (ssize_t i = 0; i < n / static_cast<ssize_t>(sizeof info[0]); ++i) {
    int signo = static_cast<int>(info[i].ssi_signo);
    if (signo <= 0 || signo >= 65 || sigismember(&signal_mask_, signo) != 1) continue;
    // As in dispatch(): call from a local, since the handler may reset its own SignalWatch;
    // put it back unless it was removed (or replaced) meanwhile.
    SignalHandler handler = std::move(signal_handlers_[signo]);
    if (handler) handler(signo);
    if (sigismember(&signal_mask_, signo) == 1 && !signal_handlers_[signo]) {
      signal_handlers_[signo] = std::move(handler);
    }
  }
}

// --- cross-thread ---------------------------------------------------------------------

void EventLoop::post(std::function<void()> task) {
  {
    std::lock_guard lock(post_mutex_);
    posted_.push_back(std::move(task));
  }
  wake();
}

void EventLoop::stop() noexcept {
  stop_.store(true, std::memory_order_release);
  wake();
}

void EventLoop::wake() noexcept {
  // One eventfd write per sleep, however many posts arrive before the loop wakes up.
  if (wake_pending_.exchange(true, std::memory_order_acq_rel)) return;
  std::uint64_t one = 1;
  sys::write(wake_.get(), &one, sizeof one);
}

void EventLoop::drain_wake() noexcept {
  std::uint64_t value;
  sys::read(wake_.get(), &value, sizeof value);
}

void EventLoop::run_posted() {
  wake_pending_.store(false, std::memory_order_release);
  {
    std::lock_guard lock(post_mutex_);
    if (posted_.empty()) return;
    running_.swap(posted_);
  }
  for (auto& task : running_)
    task();
  running_.clear();
}

// --- running --------------------------------------------------------------------------

Result<void> EventLoop::run_once(Clock::duration timeout) {
  timespec ts{};
  const timespec* wait = nullptr;
  bool posts_waiting = false;
  {
    std::lock_guard lock(post_mutex_);
    posts_waiting = !posted_.empty();
  }
  if (posts_waiting || stop_.load(std::memory_order_acquire)) timeout = Clock::duration::zero();
  if (!heap_.empty()) {
    timeout =
        std::min(timeout, std::max(heap_.front().deadline - Clock::now(), Clock::duration::zero()));
  }
  if (timeout != Clock::duration::max()) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
    ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    wait = &ts;
  }
  int n = sys::epoll_wait(epoll_.get(), events_, kMaxEventsPerTurn, wait);
  if (n < 0) return Error::from_errno("epoll_wait");
  now_ = Clock::now();
  dispatch(n);
  run_timers();
  run_posted();
  return {};
}

Result<void> EventLoop::run() {
  while (!stop_.load(std::memory_order_acquire)) {
    if (idle()) {
      std::lock_guard lock(post_mutex_);
      if (posted_.empty()) break;
    }
    if (auto r = run_once(Clock::duration::max()); !r) return r;
  }
  stop_.store(false, std::memory_order_relaxed);
  return {};
}

}  // namespace sockit
