// ChatRoom: the clients of a chat server, and delivery of each line to all the others.
//
// Thread-safe (one mutex): the reactor's loops and the thread/pool workers share one room.
// Delivery is a non-blocking send straight to each member's socket, under the lock, so
// every member sees messages in one global order. A member whose socket can't take a
// whole message right away is a slow reader: it is disconnected (shutdown), the way IRC
// servers drop a client whose send queue overflows, rather than letting it stall the room
// or grow memory.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace sockit::serve {

class ChatRoom {
 public:
  void join(std::uint64_t id, int fd, std::string label);
  void leave(std::uint64_t id);
  void say(std::uint64_t from, std::string_view line);

 private:
  struct Member {
    std::uint64_t id;
    int fd;
    std::string label;
  };
  // Sends `text` to everyone but `except`; drops members that can't keep up.
  void broadcast(std::uint64_t except, std::string_view text);

  std::mutex mutex_;
  std::vector<Member> members_;
};

}  // namespace sockit::serve
