#!/usr/bin/env python3
"""pyclient.py: an independent ping-pong load generator (Python asyncio, standard library only)
used by bench/run.sh to cross-check `sockit bench` at low connection counts.

    bench/pyclient.py HOST PORT [-c CONNS] [-s SIZE] [-d SECS] [--warmup SECS]

Each connection sends SIZE bytes, reads until the whole echo is back, checks it byte for
byte, and sends the next (closed loop, like `sockit bench -m pingpong`). Prints one JSON
object: messages, duration_s, msgs_per_s, errors. Bounded: stops after warmup + duration.
"""
import argparse
import asyncio
import json
import socket
import sys
import time


async def conn_loop(host, port, size, state, idx):
    reader, writer = await asyncio.open_connection(host, port)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    msg = bytes((idx + i) % 256 for i in range(size))
    try:
        while not state["stop"]:
            writer.write(msg)
            got = await reader.readexactly(size)
            if got != msg:
                state["errors"] += 1
                break
            if state["measuring"]:
                state["messages"] += 1
    except (ConnectionError, asyncio.IncompleteReadError):
        state["errors"] += 1
    finally:
        writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("-c", type=int, default=1)
    ap.add_argument("-s", type=int, default=64)
    ap.add_argument("-d", type=float, default=3.0)
    ap.add_argument("--warmup", type=float, default=0.5)
    a = ap.parse_args()
    state = {"stop": False, "measuring": False, "messages": 0, "errors": 0}
    tasks = [asyncio.create_task(conn_loop(a.host, a.port, a.s, state, i)) for i in range(a.c)]
    await asyncio.sleep(a.warmup)
    state["measuring"] = True
    t0 = time.monotonic()
    await asyncio.sleep(a.d)
    state["measuring"] = False
    secs = time.monotonic() - t0
    state["stop"] = True
    await asyncio.wait(tasks, timeout=5)
    json.dump({"client": "python-asyncio", "connections": a.c, "message_size": a.s,
               "messages": state["messages"], "duration_s": round(secs, 3),
               "msgs_per_s": state["messages"] / secs, "errors": state["errors"]}, sys.stdout)
    print()


if __name__ == "__main__":
    asyncio.run(main())
