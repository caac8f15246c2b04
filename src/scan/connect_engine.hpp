// ConnectEngine: probes with non-blocking connect() — the scan anyone can run, no privilege.
//
// A connect costs the kernel ~16 µs on a small VM, so a big scan needs every core: the
// engine has `lanes`, each an event loop with its own sockets. Lane 0 runs on the
// scheduler's loop; the others run on threads of their own and exchange batches with the
// scheduler through mailboxes (a start, expire or cancel goes out; answers and losses come
// back), so the scheduler stays single-threaded. Each probe lives on one lane from start
// to verdict.
//
// Verdicts: connected = Open (unless the socket connected to itself: Linux's loopback
// self-connect on the ephemeral port probed, which is Closed), refused = Closed, an ICMP
// error (EHOSTUNREACH, ENETUNREACH, EACCES…) = Unreachable. On expire, a lane first looks
// whether the answer is already in (on a busy machine the reply can land between the
// loop's wait and its timers) before calling the probe lost. With banners, an open port is
// reported after its first line arrives or banner_wait passes.
// Sockets close with a reset (SO_LINGER 0): no TIME_WAIT on our side, nothing for the
// service to wait on.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "scan/engine.hpp"

namespace sockit::scan {

template <class T>
class Mailbox;

class ConnectEngine final : public Engine {
 public:
  struct Options {
    unsigned lanes = 1;
    bool banner = false;
    std::chrono::milliseconds banner_wait{1500};
  };

  explicit ConnectEngine(Options options);
  ~ConnectEngine() override;

  Result<void> open(EventLoop& loop, EngineEvents& events, std::uint32_t capacity) override;
  StartStatus start(const Probe& probe) override;
  void flush() override;
  void expire(std::uint32_t id) override;
  void cancel(std::uint32_t id) override;
  void close() override;
  Error error() const override { return error_; }

  class Lane;      // one loop's sockets (connect_engine.cpp)
  class Remote;    // a lane on a thread of its own, with its mailbox
  class Reporter;  // where a lane's verdicts go
  struct Command;
  struct Report;

 private:
  void take_reports();

  Options options_;
  EventLoop* loop_ = nullptr;
  EngineEvents* events_ = nullptr;
  std::unique_ptr<Reporter> direct_;
  std::unique_ptr<Lane> local_;
  std::unique_ptr<Mailbox<Report>> reports_;
  std::vector<Report> report_batch_;
  std::vector<std::unique_ptr<Remote>> remotes_;
  std::vector<std::uint8_t> lane_of_;       // by probe slot: which lane holds it
  std::vector<std::uint32_t> outstanding_;  // by lane
  Watch reports_watch_;
  Error error_;
  bool closed_ = false;
};

}  // namespace sockit::scan
