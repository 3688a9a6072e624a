#!/usr/bin/env python3
"""serve_api.py BRIDGERT SERVE_PLUGIN_DIR: the algorithm API of `bridgert
serve` (docs/cli.md, "serve"), probed as a client and as an attacker would,
on loopback only, every wait bounded (a few seconds in all).

- calls and listing: results, the typed error with its causes, and the HTTP
  status of each brt_status (400, 404, 408, 429, 500; 503 under isolation);
- paths: percent-encoding, '..', a '/' or NUL smuggled in, wrong methods;
- bodies: not JSON, too deep, NUL, invalid UTF-8, over the size limit
  (declared or chunked), trickled slower than the deadline;
- a slow call holds up neither /health nor other calls;
- the bearer token: missing, wrong, right; the token file's checks; a
  non-loopback address without a token is refused.
"""
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

import serve_common
from serve_common import check

BRIDGERT, PLUGINS = sys.argv[1], sys.argv[2]


class Server(serve_common.Server):
    def __init__(self, *args):
        super().__init__(BRIDGERT, PLUGINS, *args)

    def request(self, method, path, body=None, headers=None, timeout=10):
        """(status, headers dict (lower-case names), body bytes)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            data = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        finally:
            connection.close()

    def call(self, name, params=None, raw=None, headers=None, timeout=10):
        body = raw if raw is not None else (json.dumps(params).encode() if params is not None else None)
        status, head, data = self.request("POST", f"/v1/algorithms/{name}:call", body, headers, timeout)
        try:
            document = json.loads(data)
        except ValueError:
            document = None
            check(False, f"the answer to {name} is JSON: {data[:200]!r}")
        return status, head, document


def error_code(document):
    return (document or {}).get("error", {}).get("code")


def test_api():
    server = Server("--max-body-bytes", "1024", "--header-timeout-ms", "800",
                    "--max-connections-per-address", "32")
    status, head, data = server.request("GET", "/v1/algorithms")
    listing = json.loads(data)["algorithms"]
    check(status == 200 and head.get("content-type") == "application/json", "GET /v1/algorithms is 200 JSON")
    check(sorted(a["name"] for a in listing) == ["crash", "echo", "nap", "refuse"]
          and all(a["version"] == "1.0.0" and a["kind"] == "value" for a in listing),
          "the listing names each algorithm with its version and kind")
    nap = [a for a in listing if a["name"] == "nap"][0]
    check(nap["input_schema"]["required"] == ["ms"] and nap["timeout_ms"] == 200, "the listing carries the schemas")
    check(server.request("HEAD", "/v1/algorithms")[0] == 200, "HEAD /v1/algorithms is 200")

    status, _, doc = server.call("echo", {"a": [1, 2.5, "é"], "b": None})
    check(status == 200 and doc == {"a": [1, 2.5, "é"], "b": None}, f"echo returns its params ({status} {doc})")
    status, _, doc = server.call("echo")
    check(status == 200 and doc == {}, "no body is no parameters: {}")
    status, _, doc = server.call("ech%6F@1.0.0", {"x": 1})
    check(status == 200 and doc == {"x": 1}, "a percent-encoded name and a version are decoded")

    # Names that name nothing never reach the runtime.
    for name in ["..%2F..%2Fmetrics", "../metrics", "ECHO", "echo%00x", "echo%20", "e" * 129, "echo@", "echo@1.0.0/x"]:
        status, _, doc = server.call(name, {})
        check(status in (400, 404) and error_code(doc) in ("BRT_E_INVALID_ARGUMENT", "BRT_E_NOT_FOUND"),
              f"the name {name[:40]!r} is refused ({status} {error_code(doc)})")
    status, _, doc = server.call("nope", {})
    check(status == 404 and error_code(doc) == "BRT_E_NOT_FOUND" and "nope" in doc["error"]["message"],
          "an unknown algorithm is 404 BRT_E_NOT_FOUND")
    status, _, doc = server.call("echo@9.9.9", {})
    check(status == 404, "an unknown version is 404")
    status, head, _ = server.request("GET", "/v1/algorithms/echo:call")
    check(status == 405 and head.get("allow") == "POST", "GET on a call is 405, Allow: POST")
    status, head, _ = server.request("POST", "/v1/algorithms", b"{}")
    check(status == 405 and head.get("allow") == "GET, HEAD", "POST on the listing is 405")
    check(server.request("GET", "/v1/nothing")[0] == 404, "another /v1/ path is 404")

    # Bodies.
    status, _, doc = server.call("echo", raw=b"hello")
    check(status == 400 and error_code(doc) == "BRT_E_CONVERSION" and "line 1, column 1" in doc["error"]["message"],
          "a body that is not JSON is 400 BRT_E_CONVERSION with its position")
    status, _, doc = server.call("echo", raw=b"[" * 300 + b"]" * 300)
    check(status == 400 and error_code(doc) == "BRT_E_LIMIT_EXCEEDED", "JSON nested 300 deep is 400")
    status, _, doc = server.call("echo", raw=b'{"a": "x\x00y"}')
    check(status == 400, "a NUL byte in the body is 400")
    status, _, doc = server.call("echo", raw=b'{"a": "\xff\xfe"}')
    check(status == 400 and error_code(doc) == "BRT_E_CONVERSION", "invalid UTF-8 is 400, answered in valid JSON")
    status, _, doc = server.call("echo", raw=b'{"a": 1, "a": 2}')
    check(status == 400, "a duplicate key is 400")
    status, _, doc = server.call("echo", raw=b'{"a": "' + b"x" * 2000 + b'"}')
    check(status == 413 and error_code(doc) == "BRT_E_LIMIT_EXCEEDED" and "1024" in doc["error"]["message"],
          "a body over --max-body-bytes is 413")
    status, _, doc = server.call("echo", raw=iter([b'{"a": "', b"x" * 700, b"x" * 700, b'"}']))
    check(status == 413, "a chunked body over the limit is 413")
    status, _, doc = server.call("echo", raw=iter([b'{"a": ', b"[1, 2", b"]}"]))
    check(status == 200 and doc == {"a": [1, 2]}, "a chunked body within the limit is served")

    # A body trickled one byte every 100 ms is cut off at its deadline (800 ms).
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.sendall(b"POST /v1/algorithms/echo:call HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n")
    start, closed = time.monotonic(), False
    while time.monotonic() - start < 5 and not closed:
        try:
            sock.send(b" ")
            sock.settimeout(0.1)
            closed = sock.recv(4096) == b""
        except socket.timeout:
            pass
        except (BrokenPipeError, ConnectionResetError):
            closed = True
    elapsed = time.monotonic() - start
    check(closed and elapsed < 3, f"a trickled body is cut off at the deadline (after {elapsed:.1f} s)")
    sock.close()

    # Statuses of the runtime's failures.
    status, _, doc = server.call("nap", {"ms": "x"})
    check(status == 400 and error_code(doc) == "BRT_E_VALIDATION", "params against the schema: 400 BRT_E_VALIDATION")
    status, _, doc = server.call("nap", {"ms": 5})
    check(status == 200 and doc == 5, "nap 5 ms is 200")
    status, _, doc = server.call("nap", {"ms": 400})
    check(status == 408 and error_code(doc) == "BRT_E_TIMEOUT", f"a call past its 200 ms deadline is 408 ({status})")

    # A slow call holds up neither the health check nor another call.
    slow = {}
    thread = threading.Thread(target=lambda: slow.update(answer=server.call("nap", {"ms": 1500})))
    thread.start()
    time.sleep(0.2)
    start = time.monotonic()
    health = server.request("GET", "/health")[0]
    echoed = server.call("echo", {"n": 1})[0]
    elapsed = time.monotonic() - start
    thread.join(10)
    check(health == 200 and echoed == 200 and elapsed < 1.0,
          f"during a 1.5 s call, /health and another call answer at once ({elapsed:.2f} s)")
    check(slow.get("answer", (0,))[0] == 408, "the slow call ends 408 when it returns")

    # A failure carries its causes; repeated failures isolate the algorithm (429).
    status, _, doc = server.call("refuse", {})
    causes = doc["error"]["causes"]
    check(status == 500 and error_code(doc) == "BRT_E_INTERNAL" and causes and causes[0]["origin"] == "plugin"
          and causes[0]["message"] == "refuse always fails", f"an algorithm's error is 500 with its cause ({doc})")
    statuses = [server.call("refuse", {})[0] for _ in range(30)]
    check(statuses[-1] == 429, f"after repeated failures the algorithm is isolated: 429 ({statuses[-3:]})")
    status, _, doc = server.call("refuse", {})
    check(error_code(doc) == "BRT_E_ISOLATED", "429 carries BRT_E_ISOLATED")

    _, _, metrics = server.request("GET", "/metrics")
    metrics = metrics.decode()
    check('bridgert_calls_total{algorithm="echo",version="1.0.0",status="BRT_OK"}' in metrics and
          'bridgert_calls_total{algorithm="nap",version="1.0.0",status="BRT_E_TIMEOUT"} 2' in metrics,
          "the metrics show the calls made over HTTP")
    server.stop()


def test_token():
    directory = tempfile.mkdtemp()
    path = os.path.join(directory, "token")
    token = "s3cret-token-0123456789abcdef"
    with open(path, "w") as f:
        f.write(token + "\n")
    os.chmod(path, 0o600)
    server = Server("--token-file", path)
    status, head, doc = server.request("GET", "/v1/algorithms")
    check(status == 401 and head.get("www-authenticate", "").startswith("Bearer"), "no token: 401 with WWW-Authenticate")
    status, _, doc = server.call("echo", {}, headers={"Authorization": "Bearer " + token[:-1] + "g"})
    check(status == 401 and error_code(doc) == "BRT_E_PERMISSION", "a wrong token: 401")
    status, _, _ = server.call("echo", {}, headers={"Authorization": "Bearer " + token + "x"})
    check(status == 401, "a longer token: 401")
    status, _, _ = server.call("nope", {}, headers={"Authorization": "Basic " + token})
    check(status == 401, "another scheme: 401, before the path is looked at")
    status, _, doc = server.call("echo", {"k": 1}, headers={"Authorization": "Bearer " + token})
    check(status == 200 and doc == {"k": 1}, "the right token: 200")
    status, _, _ = server.call("echo", {}, headers={"Authorization": "bearer " + token})
    check(status == 200, "the scheme is case-insensitive")
    check(server.request("GET", "/health")[0] == 200 and server.request("GET", "/metrics")[0] == 200,
          "/health and /metrics need no token")
    server.stop()

    def refused(args, code, text):
        run = subprocess.run([BRIDGERT, "--plugin-dir", PLUGINS, "serve", *args], capture_output=True,
                             text=True, timeout=20, stdin=subprocess.DEVNULL)
        check(run.returncode == code and text in run.stderr, f"serve {' '.join(args)}: exit {code} ({run.returncode} {run.stderr.strip()[:160]!r})")

    os.chmod(path, 0o604)
    refused(["--listen", "127.0.0.1:0", "--token-file", path], 77, "readable or writable by others")
    os.chmod(path, 0o600)
    with open(path, "w") as f:
        f.write("short\n")
    refused(["--listen", "127.0.0.1:0", "--token-file", path], 78, "visible ASCII characters")
    refused(["--listen", "127.0.0.1:0", "--token-file", path + ".none"], 66, "cannot open the token file")
    refused(["--listen", "0.0.0.0:0"], 64, "'--token-file FILE' is required")
    os.remove(path)
    os.rmdir(directory)


def test_isolated():
    try:
        server = Server("--isolation", "process", "--max-connections-per-address", "32")
    except RuntimeError as error:
        print(f"skip: no isolated server here ({error})", flush=True)
        return
    status, _, doc = server.call("crash", {})
    check(status == 503 and error_code(doc) == "BRT_E_CRASHED", f"a crashed worker is 503 BRT_E_CRASHED ({status} {doc})")
    status, _, doc = server.call("echo", {"after": "crash"})
    check(status == 200 and doc == {"after": "crash"}, "the next call is served by a new worker")
    start = time.monotonic()
    status, _, doc = server.call("nap", {"ms": 30000})
    elapsed = time.monotonic() - start
    check(status == 408 and elapsed < 5, f"a hanging isolated call is killed at its deadline: 408 after {elapsed:.1f} s")
    server.stop()


test_api()
test_token()
test_isolated()
serve_common.finish()
