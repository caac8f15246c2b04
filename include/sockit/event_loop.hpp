// EventLoop: one thread, one epoll instance; descriptors, timers, signals, cross-thread posts.
//
//   auto loop = EventLoop::create().value();
//   auto watch = loop->watch(fd, kReadable, [&](std::uint32_t ready) { ... }).value();
//   auto tick = loop->every(std::chrono::seconds(1), [&] { ... });
//   loop->run();   // until stop(), or until nothing is watched or timed
//
// Threads: everything except post() and stop() must be called on the loop's thread (the one
// in run(), or any one thread before run starts). Multi-core means one loop per thread.
//
// Ownership: watch(), after(), every() and on_signal() return RAII handles; destroying a
// handle unregisters. Handles must not outlive the loop; destroy a Watch before closing its
// descriptor (declare it after the socket it watches). Handlers may destroy any handle,
// including their own, while they run.
//
// Cost: handlers are InlineFunction (no allocation); dispatch indexes a flat array by fd and
// checks a generation number so an event for a descriptor unwatched earlier in the same
// batch is dropped; no map lookup, no allocation per event. Each turn does at most
// kMaxEventsPerTurn descriptor events, the timers due at the turn's start, and the posts
// queued before it — so no source can starve the others.
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "sockit/inline_function.hpp"
#include "sockit/result.hpp"
#include "sockit/unique_fd.hpp"

namespace sockit {

// Interest and readiness bits (a handler's mask may also carry kError and kHangup).
inline constexpr std::uint32_t kReadable = EPOLLIN;
inline constexpr std::uint32_t kWritable = EPOLLOUT;
inline constexpr std::uint32_t kPeerClosed = EPOLLRDHUP;
inline constexpr std::uint32_t kError = EPOLLERR;
inline constexpr std::uint32_t kHangup = EPOLLHUP;

class EventLoop;

// Keeps a descriptor registered; unregisters on destruction or reset().
class [[nodiscard]] Watch {
 public:
  Watch() noexcept = default;
  Watch(Watch&& other) noexcept;
  Watch& operator=(Watch&& other) noexcept;
  ~Watch() { reset(); }

  // Changes what to wait for (no system call when it is unchanged).
  Result<void> modify(std::uint32_t interest);
  std::uint32_t interest() const noexcept;
  int fd() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return loop_ != nullptr; }
  void reset() noexcept;

 private:
  friend class EventLoop;
  Watch(EventLoop* loop, int fd) noexcept : loop_(loop), fd_(fd) {}
  EventLoop* loop_ = nullptr;
  int fd_ = -1;
};

// A pending one-shot or repeating timer; cancels on destruction or cancel().
class [[nodiscard]] Timer {
 public:
  Timer() noexcept = default;
  Timer(Timer&& other) noexcept;
  Timer& operator=(Timer&& other) noexcept;
  ~Timer() { cancel(); }

  void cancel() noexcept;
  // Lets the timer run without a handle (it can no longer be cancelled).
  void detach() noexcept { loop_ = nullptr; }
  // False once a one-shot timer has fired or any timer was cancelled.
  bool active() const noexcept;

 private:
  friend class EventLoop;
  Timer(EventLoop* loop, std::uint32_t index, std::uint32_t generation) noexcept
      : loop_(loop), index_(index), generation_(generation) {}
  EventLoop* loop_ = nullptr;
  std::uint32_t index_ = 0;
  std::uint32_t generation_ = 0;
};

// Keeps a signal routed to the loop (blocked for the thread, read through signalfd).
class [[nodiscard]] SignalWatch {
 public:
  SignalWatch() noexcept = default;
  SignalWatch(SignalWatch&& other) noexcept;
  SignalWatch& operator=(SignalWatch&& other) noexcept;
  ~SignalWatch() { reset(); }
  void reset() noexcept;

 private:
  friend class EventLoop;
  SignalWatch(EventLoop* loop, int signo) noexcept : loop_(loop), signo_(signo) {}
  EventLoop* loop_ = nullptr;
  int signo_ = 0;
};

class EventLoop {
 public:
  using Clock = std::chrono::steady_clock;
  using Handler = InlineFunction<void(std::uint32_t ready)>;
  using Task = InlineFunction<void()>;
  using SignalHandler = InlineFunction<void(int signo)>;

  static constexpr int kMaxEventsPerTurn = 256;

  static Result<std::unique_ptr<EventLoop>> create();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;
  ~EventLoop();

  // Calls `handler(ready)` whenever `fd` is ready for `interest` (level-triggered).
  Result<Watch> watch(int fd, std::uint32_t interest, Handler handler);

  Timer after(Clock::duration delay, Task task);
  Timer every(Clock::duration interval, Task task);

  // Routes `signo` to `handler` on this loop. Block the signal in every other thread
  // (e.g. by calling this before starting them) or the kernel may deliver it there.
  Result<SignalWatch> on_signal(int signo, SignalHandler handler);

  // Runs `task` on the loop's thread at its next turn. Safe from any thread.
  void post(std::function<void()> task);
  // Makes run() return after the current turn. Safe from any thread and from handlers.
  void stop() noexcept;

  // Runs until stop() or until nothing is watched, timed or signalled.
  Result<void> run();
  // One turn: waits at most `timeout` for something to do, then does it.
  Result<void> run_once(Clock::duration timeout);

  // The time at the start of this turn (cheap: no clock read).
  Clock::time_point now() const noexcept { return now_; }
  // Registrations made through the public API that are still live.
  std::size_t watch_count() const noexcept { return user_watches_; }
  std::size_t timer_count() const noexcept { return live_timers_; }
  std::size_t signal_count() const noexcept { return signal_handlers_count_; }
  bool idle() const noexcept { return user_watches_ + live_timers_ + signal_handlers_count_ == 0; }

 private:
  friend class Watch;
  friend class Timer;
  friend class SignalWatch;

  struct Slot {
    Handler handler;
    std::uint32_t interest = 0;
    std::uint32_t generation = 0;
    bool used = false;
    bool internal = false;  // the loop's own eventfd/signalfd: doesn't keep run() going
  };
  struct TimerSlot {
    Task task;
    Clock::duration interval{};  // zero for one-shot
    std::uint32_t generation = 0;
    bool live = false;
  };
  struct HeapEntry {
    Clock::time_point deadline;
    std::uint32_t index;
    std::uint32_t generation;
  };

  EventLoop(UniqueFd epoll, UniqueFd wake);
  Result<void> add(int fd, std::uint32_t interest, Handler handler, bool internal);
  void unwatch(int fd) noexcept;
  Result<void> modify(int fd, std::uint32_t interest);
  Timer add_timer(Clock::duration delay, Clock::duration interval, Task task);
  void cancel_timer(std::uint32_t index, std::uint32_t generation) noexcept;
  bool timer_live(std::uint32_t index, std::uint32_t generation) const noexcept;
  void remove_signal(int signo) noexcept;
  void read_signals() noexcept;
  void drain_wake() noexcept;
  void wake() noexcept;
  void run_timers();
  void run_posted();
  int dispatch(int count);

  UniqueFd epoll_;
  UniqueFd wake_;            // eventfd: post() and stop() from other threads
  UniqueFd signal_;          // signalfd, created on the first on_signal()
  std::vector<Slot> slots_;  // indexed by fd
  std::size_t user_watches_ = 0;
  epoll_event events_[kMaxEventsPerTurn];

  std::vector<TimerSlot> timers_;
  std::vector<std::uint32_t> free_timers_;
  std::vector<HeapEntry> heap_;  // min-heap on deadline; cancelled entries skipped lazily
  std::size_t live_timers_ = 0;

  SignalHandler signal_handlers_[65];
  std::size_t signal_handlers_count_ = 0;
  sigset_t signal_mask_;

  std::mutex post_mutex_;
  std::vector<std::function<void()>> posted_;
  std::vector<std::function<void()>> running_;
  std::atomic<bool> wake_pending_{false};
  std::atomic<bool> stop_{false};

  Clock::time_point now_;
};

}  // namespace sockit
