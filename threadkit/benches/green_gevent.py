"""gevent side of benches/green.rs: the same cases, one JSON line each.

Usage: python green_gevent.py CASE N   (CASE: yield, pingpong, spawn, kill, sleep)
"""
import json
import resource
import sys
import time

import gevent
from gevent.event import Event
from gevent.queue import Queue


def emit(case, **fields):
    print(json.dumps(dict(case=case, **fields)), flush=True)


def best(samples):
    return sorted(samples)[len(samples) // 2]


def yield_(n):
    samples = []
    for _ in range(3):
        def spin():
            for _ in range(n):
                gevent.sleep(0)
        t = time.perf_counter()
        gevent.joinall([gevent.spawn(spin), gevent.spawn(spin)])
        samples.append((time.perf_counter() - t) * 1e9 / (2 * n))
    emit("yield_now", ns=best(samples))


def pingpong(n):
    samples = []
    for _ in range(3):
        a, b = Queue(), Queue()

        def ping():
            for i in range(n):
                a.put(i)
                b.get()

        def pong():
            for _ in range(n):
                b.put(a.get())
        t = time.perf_counter()
        gevent.joinall([gevent.spawn(ping), gevent.spawn(pong)])
        samples.append((time.perf_counter() - t) * 1e9 / n)
    emit("queue ping-pong round trip", ns=best(samples))


def spawn(n):
    samples = []
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(n // 100):
            gevent.joinall([gevent.spawn(lambda: None) for _ in range(100)])
        samples.append((time.perf_counter() - t) * 1e9 / n)
    emit("spawn+run+exit", ns=best(samples))


def kill(n):
    samples = []
    for _ in range(3):
        ev = Event()
        gs = [gevent.spawn(ev.wait) for _ in range(n)]
        gevent.sleep(0)
        t = time.perf_counter()
        for g in gs:
            g.kill()
        samples.append((time.perf_counter() - t) * 1e9 / n)
    emit("kill a waiting green thread", ns=best(samples))


def sleep(n):
    t = time.perf_counter()
    gevent.joinall([gevent.spawn(gevent.sleep, 0.5) for _ in range(n)])
    wall = time.perf_counter() - t
    ru = resource.getrusage(resource.RUSAGE_SELF)
    emit("%d x sleep(0.5)" % n, wall_s=wall, cpu_s=ru.ru_utime + ru.ru_stime)


CASES = {"yield": yield_, "pingpong": pingpong, "spawn": spawn, "kill": kill, "sleep": sleep}

if __name__ == "__main__":
    CASES[sys.argv[1]](int(sys.argv[2]))
