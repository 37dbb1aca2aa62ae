"""The code sandbox against the usual attacks, and a passing LiveCodeBench-style solution."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest

from mathxfer.eval.livecodebench import run_tests
from mathxfer.eval.sandbox import Limits, run_python

FAST = Limits(wall_s=4, cpu_s=2, memory_mb=512, output_bytes=64_000)


def test_ok_and_stdin():
    r = run_python("import sys, collections, heapq\nprint(sum(map(int, sys.stdin.read().split())))", "1 2 3", FAST)
    assert r.ok and r.stdout.strip() == "6" and r.network_isolated


@pytest.mark.parametrize("name,code,statuses", [
    ("infinite loop", "while True: pass", {"timeout"}),
    ("sleep past wall clock", "import time; time.sleep(60)", {"timeout"}),
    ("huge allocation", "x = bytearray(10**10)", {"memory"}),
    ("growing allocation", "x = []\nwhile True: x.append(' ' * 10**7)", {"memory"}),
    ("output flood", "while True: print('x' * 10000)", {"output_limit"}),
    ("fork bomb", "import os\nwhile True: os.fork()", {"error"}),
    ("subprocess", "import subprocess; subprocess.run(['sleep', '100'])", {"error"}),
    ("ctypes escape", "import ctypes; ctypes.CDLL(None).system(b'true')", {"error"}),
    ("network", "import socket; socket.create_connection(('1.1.1.1', 80), timeout=2)", {"error"}),
])
def test_attacks_are_contained(name, code, statuses):
    start = time.monotonic()
    r = run_python(code, limits=FAST)
    assert r.status in statuses, (name, r.status, r.stderr[-300:])
    assert time.monotonic() - start < FAST.wall_s + 3


def test_no_writes_or_reads_outside_and_no_secrets(tmp_path, monkeypatch):
    target = tmp_path / f"escape-{uuid.uuid4().hex}.txt"
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cr3t")
    monkeypatch.setenv("MATHXFER_TEST_SECRET", "hunter2")
    code = f"""
import os
results = []
for attempt in (lambda: open({str(target)!r}, 'w').write('x'), lambda: open({str(secret)!r}).read(),
                lambda: open('/proc/self/environ').read(), lambda: os.listdir('/'),
                lambda: os.remove({str(secret)!r})):
    try:
        attempt(); results.append('ESCAPED')
    except PermissionError:
        results.append('blocked')
open('inside.txt', 'w').write('fine')
print(results, open('inside.txt').read(), 'MATHXFER_TEST_SECRET' in os.environ, os.environ.get('HOME'))
"""
    r = run_python(code, limits=FAST)
    assert r.ok, r.stderr
    assert "ESCAPED" not in r.stdout and r.stdout.count("blocked") == 5
    assert "fine False" in r.stdout and "hunter2" not in r.stdout
    assert not target.exists() and secret.read_text() == "s3cr3t"


def test_no_processes_left_behind():
    marker = f"mathxfer-sbx-{uuid.uuid4().hex}"
    r = run_python(f"import time; time.sleep(30)  # {marker}", limits=Limits(wall_s=1, cpu_s=1))
    assert r.status == "timeout"
    time.sleep(0.2)
    cmdlines = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmdlines.append(Path(f"/proc/{pid}/cmdline").read_bytes())
            except OSError:
                pass
    assert not any(b"mathxfer-sbx-" in c and b"main.py" in c for c in cmdlines)


def test_livecodebench_tests_pass_and_fail():
    tests = [{"input": "1 2\n", "output": "3\n", "testtype": "stdin"},
             {"input": "5 5\n", "output": "10\n", "testtype": "stdin"}]
    assert run_tests("a, b = map(int, input().split())\nprint(a + b)", tests, None, FAST)[:2] == (2, 2)
    assert run_tests("a, b = map(int, input().split())\nprint(a * b)", tests, None, FAST)[0] == 0
    functional = [{"input": "[1, 2]\n3", "output": "[1, 2, 3]", "testtype": "functional"}]
    code = "class Solution:\n    def add(self, xs, x):\n        return xs + [x]\n"
    assert run_tests(code, functional, "add", FAST)[:2] == (1, 1)
