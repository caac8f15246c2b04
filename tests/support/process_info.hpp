// What /proc says about a running process: its descriptors, memory, threads and children,
// and a way to wait (with a deadline) for a condition on them. Linux only.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <ostream>
#include <vector>

#include "child_process.hpp"

namespace sockit::test {

// From /proc: open descriptors, resident memory (KiB; -1 if unknown), threads, child
// processes.
std::size_t open_fd_count(pid_t pid);
long resident_kib(pid_t pid);
// Proportional set size (KiB; -1 if unknown): resident memory with each page shared among
// N processes counted 1/N in each. A forked child shares its parent's pages copy-on-write,
// so summing RSS over a family counts them twice and summing PSS counts them once.
long proportional_kib(pid_t pid);
std::size_t thread_count(pid_t pid);
std::vector<pid_t> children_of(pid_t parent);

// What a process holds: for a server serving nobody, compared before and after a test's
// clients to show that it let go of everything they cost.
struct Holdings {
  std::size_t fds = 0;
  std::size_t threads = 0;
  std::size_t children = 0;
  friend bool operator==(const Holdings&, const Holdings&) = default;
};
Holdings holdings_of(pid_t pid);
std::ostream& operator<<(std::ostream& out, const Holdings& h);
// Samples holdings_of(pid) until it stays the same for a few samples in a row (connections
// that just closed are let go of a moment later), and returns it.
Holdings settled_holdings(pid_t pid);

// Polls `condition` every few milliseconds until it holds or `patience` runs out.
bool eventually(const std::function<bool()>& condition, Patience patience = kPatience);

}  // namespace sockit::test
