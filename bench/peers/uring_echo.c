/* uring_echo: a minimal io_uring echo server, the yardstick of bench/serve_bench.sh.
 *
 *   uring_echo [ADDR:PORT] [--discard]      (IPv4; default 127.0.0.1:0, port 0 picks one)
 *
 * The issue that set sockit's serve targets measured "a minimal io_uring loop" as the fastest
 * design on its machine (1.66x asio). This is that design, so the same comparison can be made
 * here: multishot accept; one multishot recv per connection that picks buffers from a provided
 * buffer ring (no buffer per connection, no re-arming); each received buffer is sent back
 * as it is and returns to the ring when its send completes; every loop turn submits all new
 * sends and waits for completions in a single io_uring_enter (DEFER_TASKRUN: completions are
 * processed only then, in this thread). It is a benchmark peer, not a server: IPv4 only,
 * no limits, no timeouts.
 *
 * Order per connection: at most one send in flight; buffers received meanwhile wait in a
 * per-connection list (linked through the buffer table), so a partial send is finished
 * before anything after it goes out.
 *
 * Prints "uring_echo: listening on ADDR:PORT" on stderr once bound; SIGINT or SIGTERM stop it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
  kBuffers = 4096, /* in the provided ring: a power of two */
  kBufSize = 64 * 1024,
  kGroup = 1,
  kMaxFd = 65536,
  kNone = -1,
};
enum { kAccept = 1, kRecv = 2, kSend = 3 };

typedef struct {
  int head, tail; /* buffers received and not yet fully sent, in order */
  int sending;    /* the head's send is in flight */
  int closing;    /* recv ended: close once the list drains */
} conn_t;

typedef struct {
  int fd, len, off, next;
} buf_t;

static struct io_uring ring;
static struct io_uring_buf_ring* buf_ring;
static char* memory;
static buf_t bufs[kBuffers];
static conn_t conns[kMaxFd];
static int discard;
static volatile sig_atomic_t stop;
static unsigned returned; /* buffers given back to the ring this turn */

static uint64_t tag(int op, int fd, int bid) {
  return (uint64_t)op << 56 | (uint64_t)(uint32_t)bid << 24 | (uint32_t)fd;
}

static struct io_uring_sqe* sqe(void) {
  struct io_uring_sqe* s = io_uring_get_sqe(&ring);
  if (!s) { /* the submission queue is full: hand it to the kernel and take a fresh entry */
    io_uring_submit(&ring);
    s = io_uring_get_sqe(&ring);
  }
  return s;
}

static void give_back(int bid) {
  io_uring_buf_ring_add(buf_ring, memory + (size_t)bid * kBufSize, kBufSize, (unsigned short)bid,
                        io_uring_buf_ring_mask(kBuffers), (int)returned++);
}

static void arm_accept(int listener) {
  struct io_uring_sqe* s = sqe();
  io_uring_prep_multishot_accept(s, listener, NULL, NULL, 0);
  io_uring_sqe_set_data64(s, tag(kAccept, listener, 0));
}

static void arm_recv(int fd) {
  struct io_uring_sqe* s = sqe();
  io_uring_prep_recv_multishot(s, fd, NULL, 0, 0);
  s->flags |= IOSQE_BUFFER_SELECT;
  s->buf_group = kGroup;
  io_uring_sqe_set_data64(s, tag(kRecv, fd, 0));
}

static void send_head(int fd) {
  conn_t* c = &conns[fd];
  buf_t* b = &bufs[c->head];
  struct io_uring_sqe* s = sqe();
  io_uring_prep_send(s, fd, memory + (size_t)c->head * kBufSize + b->off, (size_t)(b->len - b->off),
                     MSG_NOSIGNAL);
  io_uring_sqe_set_data64(s, tag(kSend, fd, c->head));
  c->sending = 1;
}

static void drop_all(int fd) {
  conn_t* c = &conns[fd];
  for (int bid = c->head; bid != kNone; bid = bufs[bid].next)
    give_back(bid);
  c->head = c->tail = kNone;
  c->sending = 0;
  close(fd);
}

static void on_recv(int fd, const struct io_uring_cqe* cqe) {
  conn_t* c = &conns[fd];
  if (cqe->res > 0) {
    int bid = (int)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
    if (discard) {
      give_back(bid);
    } else {
      bufs[bid] = (buf_t){.fd = fd, .len = cqe->res, .off = 0, .next = kNone};
      if (c->tail == kNone) {
        c->head = c->tail = bid;
      } else {
        bufs[c->tail].next = bid;
        c->tail = bid;
      }
      if (!c->sending) send_head(fd);
    }
    if (!(cqe->flags & IORING_CQE_F_MORE)) arm_recv(fd); /* the kernel ended the multishot */
    return;
  }
  if (cqe->res == -ENOBUFS) { /* the ring ran dry: the sends in flight will refill it */
    arm_recv(fd);
    return;
  }
  /* end of stream or an error: close once what was received has been echoed */
  if (cqe->flags & IORING_CQE_F_MORE) return;
  if (c->sending) {
    c->closing = 1;
  } else {
    drop_all(fd);
  }
}

static void on_send(int fd, int bid, int res) {
  conn_t* c = &conns[fd];
  buf_t* b = &bufs[bid];
  c->sending = 0;
  if (res <= 0 && res != -EAGAIN) {
    /* The client is gone. Its recv is still armed and holds the socket: shutting it down
     * ends that recv, whose last completion closes the descriptor (so the number can't be
     * reused while a completion for it is still to come). */
    for (int q = c->head; q != kNone; q = bufs[q].next)
      give_back(q);
    c->head = c->tail = kNone;
    shutdown(fd, SHUT_RDWR);
    if (c->closing) { /* that recv has already ended */
      c->closing = 0;
      close(fd);
    }
    return;
  }
  if (res > 0) b->off += res;
  if (b->off < b->len) { /* partial: the rest goes before anything queued behind it */
    send_head(fd);
    return;
  }
  c->head = b->next;
  if (c->head == kNone) c->tail = kNone;
  give_back(bid);
  if (c->head != kNone) {
    send_head(fd);
  } else if (c->closing) {
    c->closing = 0;
    close(fd);
  }
}

static int parse_address(const char* text, struct sockaddr_in* addr) {
  char host[64];
  const char* colon = strrchr(text, ':');
  if (!colon || (size_t)(colon - text) >= sizeof host) return -1;
  memcpy(host, text, (size_t)(colon - text));
  host[colon - text] = '\0';
  char* end = NULL;
  long port = strtol(colon + 1, &end, 10);
  if (*end || port < 0 || port > 65535) return -1;
  memset(addr, 0, sizeof *addr);
  addr->sin_family = AF_INET;
  addr->sin_port = htons((uint16_t)port);
  return inet_pton(AF_INET, host, &addr->sin_addr) == 1 ? 0 : -1;
}

static void on_signal(int signo) {
  (void)signo;
  stop = 1;
}

int main(int argc, char** argv) {
  const char* where = "127.0.0.1:0";
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--discard") == 0) {
      discard = 1;
    } else {
      where = argv[i];
    }
  }
  struct sockaddr_in addr;
  if (parse_address(where, &addr) != 0) {
    fprintf(stderr, "uring_echo: bad address '%s' (want IPV4:PORT)\n", where);
    return 2;
  }
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(listener, (struct sockaddr*)&addr, sizeof addr) != 0 || listen(listener, 4096) != 0) {
    fprintf(stderr, "uring_echo: bind %s: %s\n", where, strerror(errno));
    return 1;
  }

  struct io_uring_params params;
  memset(&params, 0, sizeof params);
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE;
  params.cq_entries = 4 * kBuffers;
  int rc = io_uring_queue_init_params(4096, &ring, &params);
  if (rc < 0) {
    fprintf(stderr, "uring_echo: io_uring_queue_init: %s\n", strerror(-rc));
    return 1;
  }
  if (posix_memalign((void**)&buf_ring, 4096, kBuffers * sizeof(struct io_uring_buf)) != 0 ||
      !(memory = malloc((size_t)kBuffers * kBufSize))) {
    fprintf(stderr, "uring_echo: out of memory\n");
    return 1;
  }
  io_uring_buf_ring_init(buf_ring);
  struct io_uring_buf_reg reg = {
      .ring_addr = (unsigned long)buf_ring, .ring_entries = kBuffers, .bgid = kGroup};
  rc = io_uring_register_buf_ring(&ring, &reg, 0);
  if (rc < 0) {
    fprintf(stderr, "uring_echo: io_uring_register_buf_ring: %s\n", strerror(-rc));
    return 1;
  }
  for (int bid = 0; bid < kBuffers; ++bid)
    give_back(bid);
  io_uring_buf_ring_advance(buf_ring, returned);
  returned = 0;
  for (int fd = 0; fd < kMaxFd; ++fd)
    conns[fd] = (conn_t){.head = kNone, .tail = kNone};

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  socklen_t len = sizeof addr;
  getsockname(listener, (struct sockaddr*)&addr, &len);
  char shown[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &addr.sin_addr, shown, sizeof shown);
  fprintf(stderr, "uring_echo: listening on %s:%u\n", shown, ntohs(addr.sin_port));

  arm_accept(listener);
  while (!stop) {
    rc = io_uring_submit_and_wait(&ring, 1);
    if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
      fprintf(stderr, "uring_echo: io_uring_enter: %s\n", strerror(-rc));
      return 1;
    }
    struct io_uring_cqe* cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++seen;
      uint64_t data = cqe->user_data;
      int op = (int)(data >> 56), fd = (int)(data & 0xffffff), bid = (int)((data >> 24) & 0xffff);
      if (op == kAccept) {
        if (cqe->res >= 0 && cqe->res < kMaxFd) {
          setsockopt(cqe->res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          arm_recv(cqe->res);
        } else if (cqe->res >= 0) {
          close(cqe->res);
        }
        if (!(cqe->flags & IORING_CQE_F_MORE)) arm_accept(listener);
      } else if (op == kRecv) {
        on_recv(fd, cqe);
      } else if (op == kSend) {
        on_send(fd, bid, cqe->res);
      }
    }
    io_uring_cq_advance(&ring, seen);
    if (returned) {
      io_uring_buf_ring_advance(buf_ring, returned);
      returned = 0;
    }
  }
  io_uring_queue_exit(&ring);
  return 0;
}
