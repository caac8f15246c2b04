#include "process_info.hpp"

#include <dirent.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace sockit::test {

using Clock = std::chrono::steady_clock;

namespace {

std::size_t entries_in(const std::string& dir_path) {
  std::size_t count = 0;
  DIR* dir = ::opendir(dir_path.c_str());
  if (dir == nullptr) return 0;
  while (const dirent* entry = ::readdir(dir))
    if (entry->d_name[0] != '.') ++count;
  ::closedir(dir);
  return count;
}

}  // namespace

std::size_t open_fd_count(pid_t pid) {
  return entries_in("/proc/" + std::to_string(pid) + "/fd");
}

long resident_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmRSS:")) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

long proportional_kib(pid_t pid) {
  std::ifstream rollup("/proc/" + std::to_string(pid) + "/smaps_rollup");
  for (std::string line; std::getline(rollup, line);) {
    if (line.starts_with("Pss:")) return std::strtol(line.c_str() + 4, nullptr, 10);
  }
  return -1;
}

std::size_t thread_count(pid_t pid) {
  return entries_in("/proc/" + std::to_string(pid) + "/task");
}

Holdings holdings_of(pid_t pid) {
  return {open_fd_count(pid), thread_count(pid), children_of(pid).size()};
}

std::ostream& operator<<(std::ostream& out, const Holdings& h) {
  return out << h.fds << " fds, " << h.threads << " threads, " << h.children << " children";
}

Holdings settled_holdings(pid_t pid) {
  Holdings last = holdings_of(pid);
  int same = 0;
  for (int i = 0; i < 200 && same < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    Holdings now = holdings_of(pid);
    same = now == last ? same + 1 : 0;
    last = now;
  }
  return last;
}

std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> children;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return children;
  while (const dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    if (!std::getline(file, text)) continue;
    auto close = text.rfind(')');  // the command name may hold ") "
    if (close == std::string::npos) continue;
    std::istringstream rest(text.substr(close + 1));
    char state = '?';
    long ppid = 0;
    if (rest >> state >> ppid && ppid == parent) children.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(proc);
  return children;
}

bool eventually(const std::function<bool()>& condition, Patience patience) {
  const auto deadline = Clock::now() + patience;
  for (;;) {
    if (condition()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace sockit::test
