// asio_echo: the classic asio asynchronous echo server, as the peer `sockit serve -H echo -m
// reactor` is measured against (bench/serve_bench.sh, docs/BENCHMARKS.md).
//
//   asio_echo [-j THREADS] [-b BUFFER_BYTES] [--discard] [--pin] [ADDR:]PORT
//
// The shape is asio's own example (examples/cpp11/echo/async_tcp_echo_server.cpp): a session
// kept alive by shared_from_this() in its handlers, async_read_some into the session's buffer,
// async_write of what arrived, then read again. Two departures, both for a fair comparison:
//
// - The buffer is 64 KiB by default (the example's is 1 KiB), the size sockit reads with, so
//   the difference measured is the framework and not the buffer. It is per session, as the
//   example's is: asio's model needs the bytes to stay put until async_write completes.
//   Unused pages of it are never touched, so idle sessions cost little resident memory.
// - -j N runs N io_contexts, one per thread, each with its own acceptor on the same port
//   (SO_REUSEPORT): sockit's reactor architecture (N loops, SO_REUSEPORT), and the
//   "io_context per CPU" design of asio's HTTP server 2 example. One io_context run by N
//   threads would add locking and handlers hopping between threads. Each io_context gets
//   concurrency hint 1, asio's documented setting for a context only one thread runs.
//
// --pin does what `sockit serve --pin` does, with asio's own socket options and the thread's
// native handle: context i runs on CPU i and its acceptor takes the connections whose
// handshake CPU i processed (SO_INCOMING_CPU). Not in asio's examples; it is here so the
// benchmark can tell the technique from the framework.
//
// --discard reads and drops (a discard server, for the one-way bulk case). Prints
// "asio_echo: listening on ADDR:PORT (...)" on stderr; SIGINT or SIGTERM stops it.
#include <pthread.h>
#include <sched.h>

#include <asio.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using asio::ip::tcp;

struct Options {
  tcp::endpoint listen;
  unsigned threads = 1;
  std::size_t buffer = 64 * 1024;
  bool discard = false;
  bool pin = false;
};

void pin_to_cpu(std::thread::native_handle_type thread, unsigned cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (pthread_setaffinity_np(thread, sizeof set, &set) != 0) {
    std::fprintf(stderr, "asio_echo: cannot pin a thread to CPU %u\n", cpu);
    std::exit(1);
  }
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Options& options)
      : socket_(std::move(socket)),
        size_(options.buffer),
        discard_(options.discard),
        data_(new char[options.buffer]) {}

  void start() { do_read(); }

 private:
  void do_read() {
    auto self(shared_from_this());
    socket_.async_read_some(asio::buffer(data_.get(), size_),
                            [this, self](std::error_code ec, std::size_t length) {
                              if (ec) return;  // EOF or reset: the session ends with `self`
                              if (discard_) return do_read();
                              do_write(length);
                            });
  }

  void do_write(std::size_t length) {
    auto self(shared_from_this());
    asio::async_write(socket_, asio::buffer(data_.get(), length),
                      [this, self](std::error_code ec, std::size_t /*written*/) {
                        if (!ec) do_read();
                      });
  }

  tcp::socket socket_;
  std::size_t size_;
  bool discard_;
  std::unique_ptr<char[]> data_;
};

class Server {
 public:
  // reuse_port: every acceptor of a multi-context server sets SO_REUSEPORT on the same port.
  // incoming_cpu: with --pin, the CPU whose connections this acceptor takes (else -1).
  Server(asio::io_context& io, const tcp::endpoint& endpoint, bool reuse_port, int incoming_cpu,
         const Options& options)
      : acceptor_(io), options_(options) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    if (reuse_port) {
      acceptor_.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
    }
    if (incoming_cpu >= 0) {
      acceptor_.set_option(
          asio::detail::socket_option::integer<SOL_SOCKET, SO_INCOMING_CPU>(incoming_cpu));
    }
    acceptor_.bind(endpoint);
    acceptor_.listen();
    do_accept();
  }

  tcp::endpoint local() const { return acceptor_.local_endpoint(); }

 private:
  void do_accept() {
    acceptor_.async_accept([this](std::error_code ec, tcp::socket socket) {
      if (!ec) std::make_shared<Session>(std::move(socket), options_)->start();
      if (ec != asio::error::operation_aborted) do_accept();
    });
  }

  tcp::acceptor acceptor_;
  const Options& options_;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "asio_echo: %s\nusage: asio_echo [-j THREADS] [-b BUFFER_BYTES] [--discard] "
               "[--pin] [ADDR:]PORT\n",
               why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  std::string where;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&] {
      if (i + 1 >= argc) usage(("missing value for " + arg).c_str());
      return std::strtoul(argv[++i], nullptr, 10);
    };
    if (arg == "-j") {
      o.threads = static_cast<unsigned>(value());
    } else if (arg == "-b") {
      o.buffer = value();
    } else if (arg == "--discard") {
      o.discard = true;
    } else if (arg == "--pin") {
      o.pin = true;
    } else if (!arg.empty() && arg[0] != '-' && where.empty()) {
      where = arg;
    } else {
      usage(("unexpected argument '" + arg + "'").c_str());
    }
  }
  if (where.empty()) usage("need [ADDR:]PORT");
  if (o.threads < 1 || o.threads > 64) usage("-j must be 1..64");
  if (o.pin && o.threads > std::thread::hardware_concurrency()) usage("--pin: -j above the CPUs");
  if (o.buffer < 1 || o.buffer > (16u << 20)) usage("-b must be 1..16777216");
  auto colon = where.rfind(':');
  std::string host = colon == std::string::npos ? "0.0.0.0" : where.substr(0, colon);
  std::string port = colon == std::string::npos ? where : where.substr(colon + 1);
  std::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) usage(("bad address '" + host + "'").c_str());
  o.listen =
      tcp::endpoint(address, static_cast<unsigned short>(std::strtoul(port.c_str(), nullptr, 10)));
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  try {
    std::vector<std::unique_ptr<asio::io_context>> contexts;
    std::vector<std::unique_ptr<Server>> servers;
    tcp::endpoint endpoint = options.listen;
    const bool reuse_port = options.threads > 1;
    for (unsigned i = 0; i < options.threads; ++i) {
      contexts.push_back(std::make_unique<asio::io_context>(1));
      const int cpu = options.pin ? static_cast<int>(i) : -1;
      servers.push_back(
          std::make_unique<Server>(*contexts.back(), endpoint, reuse_port, cpu, options));
      endpoint = servers.front()->local();  // port 0: the others join the port the first got
    }

    asio::signal_set signals(*contexts.front(), SIGINT, SIGTERM);
    signals.async_wait([&](std::error_code, int) {
      for (auto& io : contexts)
        io->stop();
    });

    std::fprintf(stderr, "asio_echo: listening on %s:%u (%u io_context%s%s, %zu-byte buffer, %s)\n",
                 endpoint.address().to_string().c_str(), endpoint.port(), options.threads,
                 options.threads == 1 ? "" : "s", options.pin ? " pinned" : "", options.buffer,
                 options.discard ? "discard" : "echo");

    std::vector<std::thread> threads;
    for (unsigned i = 1; i < options.threads; ++i) {
      threads.emplace_back([&, i] { contexts[i]->run(); });
      if (options.pin) pin_to_cpu(threads.back().native_handle(), i);
    }
    if (options.pin) pin_to_cpu(pthread_self(), 0);
    contexts.front()->run();
    for (auto& t : threads)
      t.join();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "asio_echo: %s\n", e.what());
    return 1;
  }
  return 0;
}
