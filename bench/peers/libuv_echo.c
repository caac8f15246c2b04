/* libuv_echo: the libuv peer of `sockit serve -H echo` in bench/run.sh.
 *
 *   libuv_echo [ADDR:PORT] [--discard]      (default 127.0.0.1:0; port 0 picks a free one)
 *
 * Idiomatic libuv TCP echo, the shape of libuv's own test/echo-server.c and of the uvbook
 * "tcp-echo-server": one default loop, uv_listen with a connection callback that uv_accept()s
 * into a uv_tcp_t, uv_read_start() with an alloc callback handing out 64 KiB buffers (the size
 * sockit and the asio peer read with), and uv_write() of exactly what arrived, the buffer freed
 * in the write callback. TCP_NODELAY is set on accepted connections (uv_tcp_nodelay), as
 * `sockit serve` and the asio peer do. With --discard the data is dropped instead.
 * Prints "libuv_echo: listening on ADDR:PORT" on stderr once bound; SIGINT or SIGTERM stop it.
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

enum { kBufSize = 64 * 1024 };

static uv_loop_t* loop;
static int discard;

typedef struct {
  uv_write_t req;
  uv_buf_t buf;
} write_req_t;

static void on_close(uv_handle_t* handle) { free(handle); }

static void alloc_buffer(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) {
  (void)handle;
  (void)suggested;
  buf->base = malloc(kBufSize);
  buf->len = buf->base ? kBufSize : 0;
}

static void on_write(uv_write_t* req, int status) {
  write_req_t* wr = (write_req_t*)req;
  if (status < 0 && !uv_is_closing((uv_handle_t*)req->handle))
    uv_close((uv_handle_t*)req->handle, on_close);
  free(wr->buf.base);
  free(wr);
}

static void on_read(uv_stream_t* client, ssize_t nread, const uv_buf_t* buf) {
  if (nread > 0 && !discard) {
    write_req_t* wr = malloc(sizeof *wr);
    if (wr) {
      wr->buf = uv_buf_init(buf->base, (unsigned int)nread);
      if (uv_write(&wr->req, client, &wr->buf, 1, on_write) == 0) return; /* buffer owned by wr */
      free(wr);
    }
    uv_close((uv_handle_t*)client, on_close);
  } else if (nread < 0) { /* UV_EOF or an error */
    if (!uv_is_closing((uv_handle_t*)client)) uv_close((uv_handle_t*)client, on_close);
  }
  free(buf->base);
}

static void on_connection(uv_stream_t* server, int status) {
  if (status < 0) return;
  uv_tcp_t* client = malloc(sizeof *client);
  if (!client) return;
  uv_tcp_init(loop, client);
  if (uv_accept(server, (uv_stream_t*)client) == 0) {
    uv_tcp_nodelay(client, 1);
    uv_read_start((uv_stream_t*)client, alloc_buffer, on_read);
  } else {
    uv_close((uv_handle_t*)client, on_close);
  }
}

static void on_signal(uv_signal_t* handle, int signum) {
  (void)signum;
  uv_stop(handle->loop);
}

int main(int argc, char** argv) {
  const char* where = "127.0.0.1:0";
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--discard") == 0)
      discard = 1;
    else
      where = argv[i];
  }
  char host[64];
  const char* colon = strrchr(where, ':');
  if (!colon || (size_t)(colon - where) >= sizeof host) {
    fprintf(stderr, "usage: libuv_echo [ADDR:PORT] [--discard]\n");
    return 2;
  }
  memcpy(host, where, (size_t)(colon - where));
  host[colon - where] = '\0';

  signal(SIGPIPE, SIG_IGN); /* a peer that closes mid-write must not kill the server */
  loop = uv_default_loop();
  struct sockaddr_in addr;
  int rc = uv_ip4_addr(host, atoi(colon + 1), &addr);
  uv_tcp_t server;
  uv_tcp_init(loop, &server);
  if (rc == 0) rc = uv_tcp_bind(&server, (const struct sockaddr*)&addr, 0);
  if (rc == 0) rc = uv_listen((uv_stream_t*)&server, 4096, on_connection);
  if (rc != 0) {
    fprintf(stderr, "libuv_echo: %s: %s\n", where, uv_strerror(rc));
    return 1;
  }
  struct sockaddr_storage bound;
  int len = sizeof bound;
  uv_tcp_getsockname(&server, (struct sockaddr*)&bound, &len);
  fprintf(stderr, "libuv_echo: listening on %s:%d (libuv %s%s)\n", host,
          ntohs(((struct sockaddr_in*)&bound)->sin_port), uv_version_string(),
          discard ? ", discard" : "");

  uv_signal_t sigint, sigterm;
  uv_signal_init(loop, &sigint);
  uv_signal_start(&sigint, on_signal, SIGINT);
  uv_signal_init(loop, &sigterm);
  uv_signal_start(&sigterm, on_signal, SIGTERM);
  uv_run(loop, UV_RUN_DEFAULT);
  return 0;
}
