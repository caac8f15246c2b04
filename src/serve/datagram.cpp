// UDP: one event loop reading datagrams and printing, echoing or dropping each one. A
// datagram is a message, so there is no line splitting or connection state here.
#include <sys/socket.h>

#include <memory>

#include "serve/engine.hpp"
#include "sockit/event_loop.hpp"
#include "sys/sys.hpp"

namespace sockit::serve {

namespace {
constexpr std::size_t kMaxDatagram = 65536;
constexpr int kDatagramsPerEvent = 64;
}  // namespace

Result<void> run_datagram(EngineContext& ctx) {
  auto created = EventLoop::create();
  if (!created) return std::move(created).error();
  std::unique_ptr<EventLoop> loop = std::move(*created);
  std::unique_ptr<char[]> buffer(new char[kMaxDatagram]);

  auto on_readable = [&ctx, &buffer](std::uint32_t) {
    for (int i = 0; i < kDatagramsPerEvent; ++i) {
      sockaddr_storage storage;
      socklen_t len = sizeof storage;
      auto* addr = reinterpret_cast<sockaddr*>(&storage);
      ssize_t n = sys::recvfrom(ctx.listener, buffer.get(), kMaxDatagram, 0, addr, &len);
      if (n < 0) {
        // ECONNREFUSED etc. come from ICMP errors for earlier replies: not fatal.
        if (errno == EAGAIN) return;
        continue;
      }
      auto from = Endpoint::from_sockaddr(addr, len);
      if (!from) continue;
      std::string_view data(buffer.get(), static_cast<std::size_t>(n));
      ctx.counters.datagrams.fetch_add(1, std::memory_order_relaxed);
      ctx.counters.bytes_in.fetch_add(data.size(), std::memory_order_relaxed);
      switch (ctx.options.handler) {
        case Handler::Print:
          ctx.events.on_datagram(*from, data);
          break;
        case Handler::Echo:
          if (sys::sendto(ctx.listener, data.data(), data.size(), MSG_DONTWAIT, from->data(),
                          from->size()) == n) {
            ctx.counters.bytes_out.fetch_add(data.size(), std::memory_order_relaxed);
          }
          break;
        case Handler::Discard:
        case Handler::Chat:
          break;
      }
    }
  };
  auto socket_watch = loop->watch(ctx.listener, kReadable, std::move(on_readable));
  if (!socket_watch) return std::move(socket_watch).error();
  auto stop_watch = loop->watch(ctx.stop_fd, kReadable, [&](std::uint32_t) {
    socket_watch->reset();
    loop->stop();
  });
  if (!stop_watch) return std::move(stop_watch).error();
  auto ran = loop->run();
  stop_watch->reset();
  socket_watch->reset();
  return ran;
}

}  // namespace sockit::serve
