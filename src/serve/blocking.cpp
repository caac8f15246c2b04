// The course's three classic servers — iterative, a thread per client, and (here) a fixed
// pool of threads — sharing one session loop that waits with poll() on the client and the
// stop descriptor. The fork model (forking.cpp) uses the same session loop in children.
#include <poll.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "serve/chat_room.hpp"
#include "serve/engine.hpp"
#include "serve/session.hpp"
#include "sys/sys.hpp"

namespace sockit::serve {
namespace {

using Clock = std::chrono::steady_clock;

// Milliseconds until `deadline` for poll(), never negative; -1 for "no deadline".
int ms_until(Clock::time_point deadline) {
  if (deadline == Clock::time_point::max()) return -1;
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 1 << 30));
}

enum class Wait { Ready, Stop, Timeout, Error };

// Waits until `fd` has `events`, stop() is called, or `deadline` passes.
Wait wait_for(int fd, short events, int stop_fd, Clock::time_point deadline) {
  for (;;) {
    pollfd fds[2] = {{fd, events, 0}, {stop_fd, POLLIN, 0}};
    int rc = sys::poll(fds, 2, ms_until(deadline));
    if (rc < 0) {
      if (errno == EINTR) continue;
      return Wait::Error;
    }
    if (fds[1].revents != 0) return Wait::Stop;
    if (fds[0].revents != 0) return Wait::Ready;
    if (Clock::now() >= deadline) return Wait::Timeout;
  }
}

// Sends all of `data` on a non-blocking socket, waiting for room as needed. Not reading
// meanwhile is the backpressure: a client that stops reading stops being read from.
bool send_all(EngineContext& ctx, Session& session, int fd, std::string_view data,
              Clock::time_point idle_deadline) {
  while (!data.empty()) {
    ssize_t n = sys::send(fd, data.data(), data.size(), 0);
    if (n > 0) {
      session.sent(static_cast<std::size_t>(n));
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN) return false;
    if (wait_for(fd, POLLOUT, ctx.stop_fd, idle_deadline) != Wait::Ready) return false;
  }
  return true;
}

}  // namespace

void serve_blocking(EngineContext& ctx, UniqueFd fd, const Client& client, ChatRoom* room) {
  const auto& o = ctx.options;
  Session session(ctx, client, fd.get(), room);
  session.start();
  // One read buffer per thread, reused by every connection the thread serves.
  thread_local std::vector<char> buffer(64 * 1024);

  auto last_active = Clock::now();
  for (;;) {
    auto deadline = Clock::time_point::max();
    if (o.idle_timeout.count() > 0) deadline = last_active + o.idle_timeout;
    if (session.has_partial_line()) deadline = std::min(deadline, last_active + o.flush_after);

    Wait w = wait_for(fd.get(), POLLIN, ctx.stop_fd, deadline);
    if (w == Wait::Stop || w == Wait::Error) break;
    if (w == Wait::Timeout) {
      if (o.idle_timeout.count() > 0 && Clock::now() >= last_active + o.idle_timeout) break;
      session.on_quiet();  // it was the partial line's moment of quiet
      continue;
    }
    ssize_t n = sys::recv(fd.get(), buffer.data(), buffer.size(), 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN) continue;
      break;
    }
    last_active = Clock::now();
    std::string_view data(buffer.data(), static_cast<std::size_t>(n));
    if (session.on_data(data)) {
      auto idle =
          o.idle_timeout.count() > 0 ? last_active + o.idle_timeout : Clock::time_point::max();
      if (!send_all(ctx, session, fd.get(), data, idle)) break;
    }
  }
  session.finish();
}

namespace {

// Tracks the threads of the thread-per-client model so that shutdown can wait for them.
class ThreadSet {
 public:
  void started() {
    std::lock_guard lock(mutex_);
    ++running_;
  }
  void finished() {
    std::lock_guard lock(mutex_);
    if (--running_ == 0) idle_.notify_all();
  }
  void wait_all() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return running_ == 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable idle_;
  std::size_t running_ = 0;
};

// The pool's queue of accepted connections.
class WorkQueue {
 public:
  void push(AcceptedClient c) {
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(c));
    }
    ready_.notify_one();
  }
  // False once closed and empty.
  bool pop(AcceptedClient& out) {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [this] { return closed_ || !queue_.empty(); });
    if (queue_.empty()) return false;
    out = std::move(queue_.front());
    queue_.pop_front();
    return true;
  }
  // Ends the queue: workers take what is left, then finish.
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    ready_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<AcceptedClient> queue_;
  bool closed_ = false;
};

}  // namespace

Result<void> run_blocking(EngineContext& ctx) {
  const Model model = ctx.options.model;
  ChatRoom room;
  ChatRoom* chat = ctx.options.handler == Handler::Chat ? &room : nullptr;
  UniqueFd spare = open_spare_fd();
  ThreadSet threads;
  WorkQueue queue;
  std::vector<std::thread> pool;

  if (model == Model::Pool) {
    for (unsigned i = 0; i < ctx.options.threads; ++i) {
      pool.emplace_back([&] {
        AcceptedClient c;
        while (queue.pop(c)) {
          if (stop_requested(ctx)) {  // stopped while c waited: it was never served
            reject_client(ctx, std::move(c.fd), c.peer, "server stopping");
            ctx.counters.active.fetch_sub(1, std::memory_order_relaxed);
            continue;
          }
          Client client = new_client(ctx, c.peer);
          serve_blocking(ctx, std::move(c.fd), client, chat);
          ctx.counters.active.fetch_sub(1, std::memory_order_relaxed);
        }
      });
    }
  }

  for (;;) {
    Wait w = wait_for(ctx.listener, POLLIN, ctx.stop_fd, Clock::time_point::max());
    if (w == Wait::Stop) break;
    if (w == Wait::Error) return Error::from_errno("poll");
    auto accepted = accept_client(ctx, ctx.listener, spare);
    if (!accepted) {
      ctx.events.on_error(accepted.error());
      continue;
    }
    if (!accepted->fd) continue;

    if (model == Model::Iterative) {
      // One at a time: the next client waits in the listen backlog meanwhile.
      serve_blocking(ctx, std::move(accepted->fd), new_client(ctx, accepted->peer), chat);
      continue;
    }
    if (!take_place(ctx)) {
      reject_client(ctx, std::move(accepted->fd), accepted->peer, "too many connections");
      continue;
    }
    if (model == Model::Pool) {
      queue.push(std::move(*accepted));
      continue;
    }
    threads.started();
    Client client = new_client(ctx, accepted->peer);
    try {
      std::thread([&ctx, &threads, chat, client, fd = std::move(accepted->fd)]() mutable {
        serve_blocking(ctx, std::move(fd), client, chat);
        ctx.counters.active.fetch_sub(1, std::memory_order_relaxed);
        threads.finished();
      }).detach();
    } catch (const std::system_error& e) {
      // No thread to be had (EAGAIN): turn the client away and keep serving the others.
      threads.finished();
      ctx.counters.active.fetch_sub(1, std::memory_order_relaxed);
      reject_client(ctx, UniqueFd(), client.peer, "cannot start a thread");
    }
  }
  // Stopping: sessions see the stop descriptor and finish; wait for them. Pool workers turn
  // away the clients still queued (they see the stop before serving each one).
  queue.close();
  for (auto& t : pool)
    t.join();
  threads.wait_all();
  return {};
}

}  // namespace sockit::serve
