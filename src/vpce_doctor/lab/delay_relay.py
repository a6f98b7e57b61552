"""A userspace stand-in for `tc netem delay`: an L2 relay between two interfaces that holds
every frame for a fixed time, for kernels without sch_netem. Run inside its own namespace:

    python -m vpce_doctor.lab.delay_relay IF_A IF_B ONE_WAY_SECONDS

Frames the relay itself sends come back to it as PACKET_OUTGOING and are ignored. It stops
on SIGTERM, or after an hour in any case.
"""
from __future__ import annotations

import heapq
import select
import signal
import socket
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def relay(if_a: str, if_b: str, delay: float, lifetime: float = 3600.0) -> None:
    sockets = {}
    for name in (if_a, if_b):
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        sock.bind((name, 0))
        sock.setblocking(False)
        sockets[name] = sock
    other = {sockets[if_a]: sockets[if_b], sockets[if_b]: sockets[if_a]}
    pending = []  # (due, sequence, socket to send on, frame)
    sequence = 0
    stopping = []
    signal.signal(signal.SIGTERM, lambda *a: stopping.append(True))
    end = time.monotonic() + lifetime
    while not stopping and time.monotonic() < end:
        now = time.monotonic()
        wait = max(0.0, min(pending[0][0] - now, 0.5)) if pending else 0.5
        readable, _, _ = select.select(list(other), [], [], wait)
        for sock in readable:
            while True:
                try:
                    frame, address = sock.recvfrom(65535)
                except BlockingIOError:
                    break
                if address[2] == PACKET_OUTGOING:
                    continue
                sequence += 1
                heapq.heappush(pending, (time.monotonic() + delay, sequence, other[sock], frame))
        now = time.monotonic()
        while pending and pending[0][0] <= now:
            _, _, out, frame = heapq.heappop(pending)
            try:
                out.send(frame)
            except OSError:
                pass  # a frame the link will not take is a lost frame, as on a real wire


if __name__ == "__main__":
    relay(sys.argv[1], sys.argv[2], float(sys.argv[3]))
