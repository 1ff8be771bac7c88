"""gevent side of benches/green_net.rs: a loopback echo round trip (64 bytes)
between two greenlets over gevent.socket, one JSON line.

Usage: python green_net_gevent.py N
"""
import json
import socket as _stdsocket
import sys
import time

import gevent
from gevent import socket


def echo(n):
    samples = []
    for _ in range(3):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        addr = listener.getsockname()

        def serve():
            conn, _ = listener.accept()
            conn.setsockopt(_stdsocket.IPPROTO_TCP, _stdsocket.TCP_NODELAY, 1)
            while True:
                data = conn.recv(4096)
                if not data:
                    break
                conn.sendall(data)
            conn.close()

        server = gevent.spawn(serve)
        client = socket.create_connection(addr)
        client.setsockopt(_stdsocket.IPPROTO_TCP, _stdsocket.TCP_NODELAY, 1)
        msg = b"x" * 64
        t = time.perf_counter()
        for _ in range(n):
            client.sendall(msg)
            got = 0
            while got < 64:
                got += len(client.recv(64 - got))
        samples.append((time.perf_counter() - t) * 1e9 / n)
        client.close()
        server.join()
        listener.close()
    print(json.dumps(dict(case="echo round trip", ns=sorted(samples)[1])), flush=True)


if __name__ == "__main__":
    echo(int(sys.argv[1]))
