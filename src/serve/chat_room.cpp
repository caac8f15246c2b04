#include "serve/chat_room.hpp"

#include <sys/socket.h>

#include <algorithm>

#include "sys/sys.hpp"

namespace sockit::serve {

void ChatRoom::join(std::uint64_t id, int fd, std::string label) {
  std::lock_guard lock(mutex_);
  broadcast(id, "* " + label + " joined\n");
  members_.push_back({id, fd, std::move(label)});
}

void ChatRoom::leave(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(members_.begin(), members_.end(), [&](auto& m) { return m.id == id; });
  if (it == members_.end()) return;
  std::string note = "* " + it->label + " left\n";
  members_.erase(it);
  broadcast(id, note);
}

void ChatRoom::say(std::uint64_t from, std::string_view line) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(members_.begin(), members_.end(), [&](auto& m) { return m.id == from; });
  if (it == members_.end()) return;
  std::string text;
  text.reserve(it->label.size() + line.size() + 2);
  text.append(it->label).append(" ").append(line).append("\n");
  broadcast(from, text);
}

void ChatRoom::broadcast(std::uint64_t except, std::string_view text) {
  std::vector<Member> dropped;
  for (auto it = members_.begin(); it != members_.end();) {
    if (it->id == except) {
      ++it;
      continue;
    }
    ssize_t n = sys::send(it->fd, text.data(), text.size(), MSG_DONTWAIT);
    if (n == static_cast<ssize_t>(text.size())) {
      ++it;
      continue;
    }
    // Slow or gone: its owner sees the shutdown as EOF and cleans up (calling leave(),
    // which finds nothing left to do).
    sys::shutdown(it->fd, SHUT_RDWR);
    dropped.push_back(std::move(*it));
    it = members_.erase(it);
  }
  // The others hear that the dropped ones left (each round can only shrink the room).
  for (const Member& m : dropped)
    broadcast(m.id, "* " + m.label + " left\n");
}

}  // namespace sockit::serve
