// Which TCP ports something on this machine listens on, reachable at 127.0.0.1: what
// `ss -ltn` shows, read straight from /proc/net/tcp and /proc/net/tcp6 (the same kernel
// tables, without running a program). ListenerWatch samples them every few milliseconds on
// a thread of its own, so that a test scanning loopback on a shared machine can tell a
// listener some other process opened mid-scan from a false "open". Header-only.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>

namespace sockit::test {

// Ports in LISTEN state on 127.0.0.1, 0.0.0.0, :: or ::ffff:127.0.0.1.
inline std::set<std::uint16_t> listening_on_loopback_v4() {
  std::set<std::uint16_t> ports;
  // /proc prints each address as the hex of its in-memory (network order) words.
  const std::set<std::string> reachable = {"0100007F", "00000000",
                                           "00000000000000000000000000000000",
                                           "0000000000000000FFFF00000100007F"};
  for (const char* path : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state;
      if (!(fields >> slot >> local >> remote >> state) || state != "0A") continue;  // LISTEN
      auto colon = local.find(':');
      if (colon == std::string::npos || !reachable.contains(local.substr(0, colon))) continue;
      ports.insert(static_cast<std::uint16_t>(std::stoul(local.substr(colon + 1), nullptr, 16)));
    }
  }
  return ports;
}

class ListenerWatch {
 public:
  ListenerWatch() : thread_([this] { run(); }) {}
  ~ListenerWatch() {
    stop_ = true;
    thread_.join();
  }
  ListenerWatch(const ListenerWatch&) = delete;
  ListenerWatch& operator=(const ListenerWatch&) = delete;

  // Every port seen listening at any sample so far (one more sample is taken first).
  std::set<std::uint16_t> ever() {
    sample();
    std::lock_guard lock(mutex_);
    return ever_;
  }
  // Ports seen listening at every sample so far.
  std::set<std::uint16_t> always() {
    sample();
    std::lock_guard lock(mutex_);
    return always_;
  }

 private:
  void run() {
    while (!stop_) {
      sample();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  void sample() {
    auto now = listening_on_loopback_v4();
    std::lock_guard lock(mutex_);
    ever_.insert(now.begin(), now.end());
    if (first_) {
      always_ = now;
      first_ = false;
    } else {
      std::erase_if(always_, [&now](std::uint16_t p) { return !now.contains(p); });
    }
  }

  std::mutex mutex_;
  std::set<std::uint16_t> ever_;
  std::set<std::uint16_t> always_;
  bool first_ = true;
  std::atomic<bool> stop_{false};
  std::thread thread_;  // last: starts after the members it uses
};

}  // namespace sockit::test
