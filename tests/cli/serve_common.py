"""What the serve tests share (serve_limits.py, serve_api.py, serve_load.py):
check() records failures, Server runs `bridgert serve` on a free loopback
port and stops it with SIGTERM, every wait bounded."""
import signal
import subprocess
import sys

failures = []


def check(condition, message):
    print(("ok: " if condition else "FAIL: ") + message, flush=True)
    if not condition:
        failures.append(message)


def finish():
    if failures:
        sys.exit(f"{len(failures)} failure(s)")


class Server:
    def __init__(self, bridgert, plugins, *args):
        argv = [bridgert, "--plugin-dir", plugins, "serve", "--listen", "127.0.0.1:0", *args]
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()  # bounded: the server prints it or exits
        if not line.startswith("listening on http://127.0.0.1:"):
            self.process.kill()
            _, err = self.process.communicate(timeout=10)
            raise RuntimeError(f"bridgert {' '.join(argv[1:])} did not start: {line!r} {err!r}")
        self.port = int(line.split(":")[2].split()[0])

    def stop(self):
        """SIGTERM; checks that the server exits 0 in time. Its standard error."""
        self.process.send_signal(signal.SIGTERM)
        try:
            _, err = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
            check(False, "the server stopped within 20 s of SIGTERM")
            return ""
        check(self.process.returncode == 0,
              f"the server exits 0 on SIGTERM (got {self.process.returncode}, {err[-300:]!r})")
        return err
