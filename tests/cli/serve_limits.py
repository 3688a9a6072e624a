#!/usr/bin/env python3
"""serve_limits.py BRIDGERT PLUGIN_DIR: checks that `bridgert serve` cannot be
held by slow or many clients (docs/cli.md, "Limits"). Loopback only; every
wait is bounded, and the whole run takes a few seconds.

- per address: with --max-connections-per-address 2, a third connection from
  127.0.0.1 is closed at once, while another address is still served;
- in all: with --max-connections 3, a fourth connection is not served while
  three are open, and is served as soon as one of them closes;
- header deadline: with --header-timeout-ms 600, a client sending its request
  one byte every 100 ms (so never idle) is cut off after about 600 ms, on a
  fresh connection and after a response on the same connection.
"""
import socket
import sys
import time

import serve_common
from serve_common import check

BRIDGERT, PLUGINS = sys.argv[1], sys.argv[2]


def Server(*limits):
    try:
        return serve_common.Server(BRIDGERT, PLUGINS, *limits)
    except RuntimeError as error:
        sys.exit(f"FAIL: {error}")


def connect(port, source="127.0.0.1"):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((source, 0))
    sock.settimeout(5)
    sock.connect(("127.0.0.1", port))
    return sock


def closed_within(sock, seconds):
    """True when the server closes `sock` (EOF or reset) within `seconds`."""
    sock.settimeout(seconds)
    try:
        return sock.recv(4096) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def request(sock, path="/health"):
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())


def status_within(sock, seconds):
    """The HTTP status of the response on `sock`, or None if none comes within `seconds`."""
    sock.settimeout(seconds)
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                return None
            data += chunk
    except (socket.timeout, ConnectionResetError):
        return None
    return int(data.split(b" ")[1])


def read_response(sock, seconds):
    """Reads one whole response (headers and Content-Length body); its status or None."""
    sock.settimeout(seconds)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                return None
            data += chunk
        head, body = data.split(b"\r\n\r\n", 1)
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(body) < length:
            chunk = sock.recv(4096)
            if not chunk:
                return None
            body += chunk
    except (socket.timeout, ConnectionResetError):
        return None
    return int(head.split(b" ")[1])


def trickle_until_closed(sock, limit):
    """Sends a never-ending request one byte every 100 ms; the seconds until
    the server closes the connection, or None when it is still open after `limit`."""
    text = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Slow: " + b"a" * 1000
    start = time.monotonic()
    for byte in text:
        if time.monotonic() - start > limit:
            return None
        try:
            sock.send(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            return time.monotonic() - start
        if closed_within(sock, 0.1):
            return time.monotonic() - start
    return None


def test_per_address():
    server = Server("--max-connections", "8", "--max-connections-per-address", "2",
                    "--header-timeout-ms", "5000")
    held = [connect(server.port), connect(server.port)]
    time.sleep(0.2)  # accepted by now
    extra = connect(server.port)
    check(closed_within(extra, 2), "a 3rd connection from 127.0.0.1 is closed at once (per-address limit 2)")
    request(held[0])
    check(status_within(held[0], 2) == 200, "the 2 connections within the limit are served")
    other = connect(server.port, "127.0.0.2")
    request(other)
    check(status_within(other, 2) == 200, "127.0.0.2 is still served meanwhile")
    for sock in held + [extra, other]:
        sock.close()
    server.stop()


def test_total():
    server = Server("--max-connections", "3", "--max-connections-per-address", "3",
                    "--header-timeout-ms", "5000")
    held = [connect(server.port, f"127.0.0.{i}") for i in (1, 2, 3)]
    time.sleep(0.2)
    waiting = connect(server.port, "127.0.0.4")  # the kernel completes the handshake
    request(waiting)
    check(status_within(waiting, 1) is None, "a 4th connection is not served while 3 are open (limit 3)")
    held.pop().close()
    check(status_within(waiting, 3) == 200, "the 4th connection is served once one of the 3 closes")
    for sock in held + [waiting]:
        sock.close()
    server.stop()


def test_header_deadline():
    server = Server("--header-timeout-ms", "600")
    sock = connect(server.port)
    elapsed = trickle_until_closed(sock, 5)
    check(elapsed is not None and 0.4 <= elapsed <= 2.5,
          f"a request trickled one byte every 100 ms is cut off after ~600 ms (after {elapsed} s)")
    sock.close()
    sock = connect(server.port)
    request(sock)
    check(read_response(sock, 2) == 200, "a prompt request is served")
    elapsed = trickle_until_closed(sock, 5)
    check(elapsed is not None and elapsed <= 2.5,
          f"after a response, a trickled next request does not keep the connection (closed after {elapsed} s)")
    sock.close()
    sock = connect(server.port)
    time.sleep(0.1)
    check(closed_within(sock, 2.5), "a connection that sends nothing is closed by the deadline")
    sock.close()
    err = server.stop()
    check("closed 1 connection that sent no complete request headers within 600 ms" in err,
          "the server reports the connections it cut off")


test_per_address()
test_total()
test_header_deadline()
serve_common.finish()
