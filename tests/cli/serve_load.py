#!/usr/bin/env python3
"""serve_load.py BRIDGERT PLUGIN_DIR ALGORITHM: a bounded load test of
`bridgert serve` on loopback: CONNECTIONS client threads, each making
REQUESTS calls over its own keep-alive connection (reopened when the server
closes it), every answer checked against the expected result, then the
server's /metrics must count exactly the calls made.

ALGORITHM is matrix_multiplication (the example plugin: 2x2 products of
distinct matrices) or echo (tests/cli/serve_plugin, when the examples are
not built). A few thousand requests, a few seconds."""
import http.client
import json
import random
import re
import sys
import threading
import time

import serve_common

BRIDGERT, PLUGINS, ALGORITHM = sys.argv[1], sys.argv[2], sys.argv[3]
CONNECTIONS, REQUESTS = 32, 80


def case(rng):
    if ALGORITHM == "echo":
        params = {"id": rng.randrange(1 << 40), "values": [rng.random() for _ in range(4)]}
        return params, params
    a = [[rng.randrange(-99, 100) for _ in range(2)] for _ in range(2)]
    b = [[rng.randrange(-99, 100) for _ in range(2)] for _ in range(2)]
    product = [[sum(a[i][k] * b[k][j] for k in range(2)) for j in range(2)] for i in range(2)]
    return {"matrix_a": a, "matrix_b": b}, product


def client(port, seed, outcome):
    rng = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    wrong = done = 0
    try:
        for _ in range(REQUESTS):
            params, expected = case(rng)
            connection.request("POST", f"/v1/algorithms/{ALGORITHM}:call", body=json.dumps(params),
                               headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            body = response.read()
            if response.status != 200 or json.loads(body) != expected:
                wrong += 1
                if wrong == 1:
                    print(f"wrong answer: {response.status} {body[:200]!r} for {params}", flush=True)
            done += 1
            if response.will_close:
                connection.close()  # http.client reopens it on the next request
    except Exception as error:  # a failed request counts as wrong, and is reported
        print(f"client {seed}: {error!r} after {done} requests", flush=True)
        wrong += REQUESTS - done
    finally:
        connection.close()
    outcome[seed] = (done, wrong)


def main():
    try:
        server = serve_common.Server(BRIDGERT, PLUGINS, "--max-connections", str(CONNECTIONS + 8),
                                     "--max-connections-per-address", str(CONNECTIONS + 8))
    except RuntimeError as error:
        sys.exit(f"FAIL: {error}")
    port = server.port
    failures = []
    try:
        outcome = {}
        threads = [threading.Thread(target=client, args=(port, seed, outcome)) for seed in range(CONNECTIONS)]
        start = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        elapsed = time.monotonic() - start
        done = sum(d for d, _ in outcome.values())
        wrong = sum(w for _, w in outcome.values())
        total = CONNECTIONS * REQUESTS
        print(f"{done} requests over {CONNECTIONS} connections in {elapsed:.2f} s "
              f"({done / elapsed:.0f}/s), {wrong} wrong", flush=True)
        if len(outcome) != CONNECTIONS or done != total or wrong:
            failures.append(f"every one of {total} requests answered correctly")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        connection.request("GET", "/metrics")
        metrics = connection.getresponse().read().decode()
        connection.close()
        pattern = (r'^bridgert_calls_total\{algorithm="%s",version="1.0.0",status="BRT_OK"\} (\d+)$' % ALGORITHM)
        found = re.search(pattern, metrics, re.M)
        counted = int(found.group(1)) if found else None
        print(f"metrics: {ALGORITHM} BRT_OK calls = {counted}", flush=True)
        if counted != total:
            failures.append(f"the metrics count {total} calls (got {counted})")
        in_flight = re.search(r'^bridgert_calls_in_flight\{algorithm="%s",version="1.0.0"\} (\d+)$' % ALGORITHM,
                              metrics, re.M)
        if not in_flight or int(in_flight.group(1)) != 0:
            failures.append("no call is left in flight")
    finally:
        server.stop()
    failures += serve_common.failures
    for failure in failures:
        print("FAIL: " + failure, flush=True)
    if failures:
        sys.exit(f"{len(failures)} failure(s)")
    print("ok: every answer correct, and the metrics count every call", flush=True)


main()
