"""hotpath.py P TEST ROUNDS: a deterministic request loop through the real shell, for
counting instructions (tests/bench/instructions.sh runs it under callgrind).

50 clients on socketpairs are served by `NodeServer._serve_turn`, the reactor's per-turn
work (recv, parse, execute, send), in process: each round every client sends P copies of
TEST's request (redis-benchmark's), one turn serves them all, every client reads its
replies. After a warm-up it asks callgrind (`callgrind_control -i on`) to start counting,
so the interpreter's start-up is not measured; instructions.sh takes the difference of two
run lengths so that what is left of the fixed cost cancels too.
Run from the repository root: `.venv/bin/python -m tests.bench.hotpath 16 set 40`.
"""

from __future__ import annotations

import os
import random
import select
import socket
import subprocess
import sys
import time

from node.commands import load
from node.config import Config
from node.engine.engine import Engine
from node.proto.resp import RequestParser
from node.server import Connection, NodeServer

CLIENTS = 50
REQUESTS = {
    "set": [b"SET", b"key:__rand_int__", b"xxx"],
    "get": [b"GET", b"key:__rand_int__"],
    "incr": [b"INCR", b"counter:__rand_int__"],
    "lpush": [b"LPUSH", b"mylist", b"xxx"],
    "rpop": [b"RPOP", b"mylist"],
    "sadd": [b"SADD", b"myset", b"element:__rand_int__"],
    "hset": [b"HSET", b"myhash", b"element:__rand_int__", b"xxx"],
    "zadd": [b"ZADD", b"myzset", b"0", b"element:__rand_int__"],
    "xadd": [b"XADD", b"mystream", b"*", b"myfield", b"myvalue"],
    "lrange_100": [b"LRANGE", b"mylist", b"0", b"99"],
}


def encode(argv: list[bytes]) -> bytes:
    return b"*%d\r\n" % len(argv) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in argv)


def main() -> None:
    pipeline, test, rounds = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    config = Config()
    config.apply("save", [""], startup=True)
    engine = Engine(config, load(), random.Random(1))
    server = NodeServer(engine, lambda level, message: None)
    engine.set_time(int(time.time() * 1000))
    epoll = select.epoll()
    server._epoll = epoll
    peers = []
    for i in range(CLIENTS):
        ours, theirs = socket.socketpair()
        theirs.setblocking(False)
        client = engine.connect(f"127.0.0.1:{1000 + i}", "127.0.0.1:6379", True)
        assert client is not None
        conn = Connection(theirs, client, RequestParser())
        client.fd = conn.fd
        server.conns[conn.fd] = conn
        server.conn_by_client[client.id] = conn
        epoll.register(conn.fd, select.EPOLLIN)
        peers.append(ours)
    # RPOP and LRANGE need a list: as in redis-benchmark, LPUSH ran before them.
    fill = [b"LPUSH", b"mylist", *[b"xxx"] * 1000]
    for _ in range(rounds * pipeline // 10 + 10):
        engine.execute(engine.clients[1], fill)
    engine.clients[1].out.clear()
    data = encode(REQUESTS[test]) * pipeline

    def turn() -> None:
        # The clock moves a millisecond a turn, about what 50 clients' turn takes at
        # redis-benchmark's rates (a frozen clock would make XADD's sequence numbers grow
        # without end).
        engine.set_time(engine.now_ms + 1)
        for peer in peers:
            peer.send(data)
        server._serve_turn(epoll.poll(0))
        for peer in peers:
            peer.recv(1 << 20)

    for _ in range(5):
        turn()
    subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], capture_output=True)
    for _ in range(rounds):
        turn()


if __name__ == "__main__":
    main()
