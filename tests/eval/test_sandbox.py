"""The code sandbox against the usual attacks and against escapes that disable its audit hook first, each
checked on the host afterwards; no run without bubblewrap; a passing LiveCodeBench-style solution."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import uuid
from pathlib import Path

import pytest

from mathxfer.eval import sandbox
from mathxfer.eval.livecodebench import run_tests
from mathxfer.eval.sandbox import Limits, SandboxUnavailable, run_python

FAST = Limits(wall_s=4, cpu_s=2, memory_mb=512, output_bytes=64_000)
SITE_PACKAGES = sysconfig.get_paths()["purelib"]   # the host's (the project venv's) site-packages
STDLIB = os.path.dirname(os.__file__)

# Two known ways to switch off the audit hook from inside (why it is only a second layer).
GC_PATCH = """
import gc
for _o in gc.get_objects():
    if type(_o).__name__ == "function" and _o.__name__ == "hook" and "BANNED_EVENTS" in _o.__code__.co_names:
        _o.__code__ = (lambda event, args: None).__code__
"""
FRAME_WALK = """
import sys
_f = sys._getframe()
while _f is not None:
    if "BANNED_EVENTS" in _f.f_globals:
        for _name in ("BANNED_EVENTS", "BANNED_MODULES", "PATH_EVENTS"):
            _f.f_globals[_name].clear()
        _f.f_globals["inside"] = lambda path, roots: True
    _f = _f.f_back
"""
BYPASSES = {"gc __code__ patch": GC_PATCH, "frame walk": FRAME_WALK}

# Runs after a bypass: every attempt is recorded, and the run prints them as one JSON line.
ATTEMPTS = """
import json, os
R = {}
def attempt(name, fn):
    try:
        R[name] = ["done", repr(fn())[:400]]
    except BaseException as e:
        R[name] = ["failed", f"{type(e).__name__}: {e}"[:300]]
attempt("hook off", lambda: os.listdir("/"))  # the audit hook refuses this one: done = hook disabled
"""


@pytest.fixture(params=["own maps", "bwrap's maps"])
def uid_mode(request, monkeypatch):
    """Both ways the user namespace gets mapped: by this process (root: ns 65534 = host 65534) and by bwrap
    (ns 65534 = the caller's uid: host root when the tests run as root, as in CI)."""
    if request.param == "own maps":
        if not sandbox._maps_itself():
            pytest.skip("only root (with seccomp) maps the namespace itself")
    else:
        monkeypatch.setattr(sandbox, "_maps_itself", lambda: False)
    return request.param


def _report(r) -> dict:
    lines = [line for line in r.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, (r.status, r.stdout[-500:], r.stderr[-1500:])
    return json.loads(lines[-1][len("RESULT "):])


def _attack(bypass: str, body: str, limits: Limits = FAST) -> dict:
    r = run_python(bypass + ATTEMPTS + body + '\nprint("RESULT " + json.dumps(R))\n', limits=limits)
    report = _report(r)
    if bypass:   # the attack is only meaningful when it did switch the hook off
        assert report["hook off"][0] == "done", report
    return report


def test_ok_and_stdin():
    r = run_python("import sys, collections, heapq\nprint(sum(map(int, sys.stdin.read().split())))", "1 2 3", FAST)
    assert r.ok and r.stdout.strip() == "6", r
    assert r.isolation.startswith("bwrap(user,mount,pid,net")


def test_script_conventions():
    code = ("import sys\nfrom dataclasses import dataclass\n@dataclass\nclass P:\n    x: int\n"
            "print(P(1), __name__, sys.argv[0].endswith('main.py'), input(), input())\n"
            "if __name__ == '__main__':\n    exit(0)\nprint('not reached')")
    r = run_python(code, "a b\nc\n", FAST)
    assert r.ok and r.stdout == "P(x=1) __main__ True a b c\n", r
    assert run_python("quit(3)", limits=FAST).returncode == 3


@pytest.mark.parametrize("name,code,statuses", [
    ("infinite loop", "while True: pass", {"timeout"}),
    ("sleep past wall clock", "import time; time.sleep(60)", {"timeout"}),
    ("huge allocation", "x = bytearray(10**10)", {"memory"}),
    ("growing allocation", "x = []\nwhile True: x.append(' ' * 10**7)", {"memory"}),
    ("output flood", "while True: print('x' * 10000)", {"output_limit"}),
    ("fork bomb", "import os\nwhile True: os.fork()", {"error"}),
    ("fork bomb, hook off", FRAME_WALK + "import os\nwhile True: os.fork()", {"error"}),
    ("subprocess", "import subprocess; subprocess.run(['sleep', '100'])", {"error"}),
    ("ctypes escape", "import ctypes; ctypes.CDLL(None).system(b'true')", {"error"}),
    ("network", "import socket; socket.create_connection(('1.1.1.1', 80), timeout=2)", {"error"}),
    ("syntax error", "def f(:\n", {"error"}),
])
def test_attacks_are_contained(name, code, statuses):
    if "hook off" in name and "+seccomp" not in sandbox.isolation() and os.geteuid() == 0:
        pytest.skip("without seccomp, and as root, nothing but the wall clock stops a fork bomb")
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


@pytest.mark.parametrize("bypass", BYPASSES)
def test_hook_bypass_then_files_subprocess_ctypes_stay_inside(bypass, tmp_path, monkeypatch, uid_mode):
    secret = tmp_path / "secret.txt"
    secret.write_text(f"host-secret-{uuid.uuid4().hex}")
    monkeypatch.setenv("MATHXFER_TEST_SECRET", "hunter2")
    outside, by_shell, by_ctypes, by_libc = (tmp_path / f"{n}-{uuid.uuid4().hex}" for n in
                                             ("write", "shell", "ctypes", "libc"))
    body = f"""
attempt("read secret", lambda: open({str(secret)!r}).read())
attempt("write outside", lambda: open({str(outside)!r}, "w").write("escaped"))
attempt("environ", lambda: open("/proc/self/environ").read())
def shell():
    import subprocess
    return subprocess.run(["/bin/sh", "-c", "id; echo pwned > {by_shell}"], capture_output=True)
attempt("subprocess", shell)
def native():
    import ctypes
    libc = ctypes.CDLL(None)
    fd = libc.open({str(by_libc).encode()!r}, os.O_WRONLY | os.O_CREAT, 0o644)
    return fd, libc.system(b"echo pwned > {by_ctypes}")
attempt("ctypes", native)
def fork():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    return os.waitpid(pid, 0)
attempt("fork", fork)
"""
    report = _attack(BYPASSES[bypass], body)
    assert report["read secret"][0] == "failed" and secret.read_text() not in json.dumps(report)
    assert "hunter2" not in json.dumps(report)
    assert report["write outside"][0] == "failed"
    assert report["subprocess"][0] == "failed"
    fd, status = json.loads(report["ctypes"][1].replace("(", "[").replace(")", "]"))
    assert fd == -1 and status != 0, report   # ctypes loads, but open() and system() achieve nothing
    if "+seccomp" in sandbox.isolation():
        assert report["fork"] == ["failed", "PermissionError: [Errno 1] Operation not permitted"]
    for path in (outside, by_shell, by_ctypes, by_libc):
        assert not path.exists(), path


@pytest.mark.parametrize("bypass", ["", FRAME_WALK], ids=["hook on", "hook off"])
def test_dir_fd_writes_stay_inside(bypass, tmp_path, uid_mode):
    name = f"mathxfer-escape-{uuid.uuid4().hex}.pth"
    dirs = {"tmp_path": str(tmp_path), "site-packages": SITE_PACKAGES, "stdlib": STDLIB, "root": "/",
            "cwd": "."}
    body = f"""
for where, d in {dirs!r}.items():
    def write(d=d):
        fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
        w = os.open({name!r}, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        return os.write(w, b"import os")
    attempt(where, write)
"""
    try:
        report = _attack(bypass, body)
        assert report["cwd"][0] == "done", report   # its own scratch directory is fine
        for where in ("tmp_path", "site-packages", "stdlib", "root"):
            assert report[where][0] == "failed", (where, report)
        for d in (tmp_path, SITE_PACKAGES, STDLIB, "/"):
            assert not (Path(d) / name).exists()
    finally:
        for d in (tmp_path, SITE_PACKAGES, STDLIB, "/"):
            (Path(d) / name).unlink(missing_ok=True)


@pytest.mark.parametrize("bypass", BYPASSES)
def test_no_pth_persistence_in_host_site_packages(bypass, tmp_path, uid_mode):
    marker = tmp_path / "pth-ran"
    pth = Path(SITE_PACKAGES) / f"mathxfer-escape-{uuid.uuid4().hex}.pth"
    line = f"import os; open({str(marker)!r}, 'w').write('ran')\n"
    body = f"""
attempt("open", lambda: open({str(pth)!r}, "w").write({line!r}))
def by_dir_fd():
    fd = os.open({SITE_PACKAGES!r}, os.O_RDONLY | os.O_DIRECTORY)
    w = os.open({pth.name!r}, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
    return os.write(w, {line.encode()!r})
attempt("dir_fd", by_dir_fd)
"""
    try:
        report = _attack(BYPASSES[bypass], body)
        assert report["open"][0] == "failed" and report["dir_fd"][0] == "failed", report
        assert not pth.exists()
        subprocess.run([sys.executable, "-c", "pass"], check=True, timeout=60)   # a fresh host Python
        assert not marker.exists()
    finally:
        pth.unlink(missing_ok=True)


def test_host_etc_is_not_there(uid_mode):
    host_passwd = Path("/etc/passwd").read_text().splitlines()[0]
    report = _attack(FRAME_WALK, """
attempt("etc", lambda: os.path.exists("/etc"))
attempt("passwd", lambda: open("/etc/passwd").read())
attempt("shadow", lambda: open("/etc/shadow").read())
attempt("root home", lambda: os.listdir("/root"))
attempt("work", lambda: os.listdir("/work"))
attempt("top", lambda: sorted(os.listdir("/")))
""")
    assert report["etc"] == ["done", "False"]
    assert report["passwd"][0] == report["shadow"][0] == "failed"
    assert host_passwd not in json.dumps(report)
    assert report["work"][0] == "failed"
    assert set(json.loads(report["top"][1].replace("'", '"'))) <= {"dev", "lib", "lib32", "lib64", "proc",
                                                                    "root", "sandbox", "tmp", "usr"}


def test_no_network_not_even_host_loopback(uid_mode):
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    tcp.listen()
    tcp.setblocking(False)
    abstract = socket.socket(socket.AF_UNIX)
    name = f"\0mathxfer-sbx-test-{uuid.uuid4().hex}"
    abstract.bind(name)
    abstract.listen()
    abstract.setblocking(False)
    try:
        report = _attack(FRAME_WALK, f"""
import socket
attempt("tcp", lambda: socket.create_connection(("127.0.0.1", {tcp.getsockname()[1]}), timeout=2))
def unix():
    s = socket.socket(socket.AF_UNIX)
    s.connect({name!r})
    return s.send(b"x")
attempt("abstract unix", unix)
attempt("dns", lambda: socket.getaddrinfo("example.com", 80))
""")
        assert report["tcp"][0] == report["abstract unix"][0] == report["dns"][0] == "failed", report
        for listener in (tcp, abstract):
            with pytest.raises(BlockingIOError):
                listener.accept()
    finally:
        tcp.close()
        abstract.close()


def test_runs_as_nobody_without_capabilities(uid_mode):
    report = _attack(FRAME_WALK, """
attempt("ids", lambda: (os.getuid(), os.geteuid(), os.getgid(), os.getegid()))
attempt("uid_map", lambda: open("/proc/self/uid_map").read())
attempt("owner", lambda: os.stat(__file__).st_uid)
attempt("caps", lambda: [line.split()[1] for line in open("/proc/self/status")
                         if line.startswith(("CapEff", "CapPrm"))])
attempt("setuid 0", lambda: os.setuid(0))
attempt("chroot", lambda: os.chroot("/tmp"))
def unshare_user():
    import ctypes
    return ctypes.CDLL(None, use_errno=True).unshare(0x10000000), ctypes.get_errno()  # CLONE_NEWUSER
attempt("unshare", unshare_user)
""")
    assert report["ids"] == ["done", "(65534, 65534, 65534, 65534)"]
    # main.py is a file of the caller's: seen as owned by the sandbox's own uid when bwrap maps it to the
    # caller; as root's (0) when this process maps 65534 to host 65534, and the map then says so directly.
    if uid_mode == "own maps":
        assert report["owner"] == ["done", "0"] and "65534      65534          1" in report["uid_map"][1]
    else:
        assert report["owner"] == ["done", "65534"]
    assert report["caps"] == ["done", "['0000000000000000', '0000000000000000']"]
    assert report["setuid 0"][0] == report["chroot"][0] == "failed"
    assert report["unshare"][0] == "done" and report["unshare"][1].startswith("(-1, "), report


def test_kernel_settings_stay_read_only(uid_mode):
    before = Path("/proc/sys/kernel/core_pattern").read_text()
    report = _attack(FRAME_WALK, """
for path in ("/proc/sys/kernel/core_pattern", "/proc/sys/kernel/modprobe", "/proc/sys/vm/drop_caches",
             "/proc/sysrq-trigger"):
    attempt(path, lambda: open(path, "ab").close())   # an open for writing, nothing written
""")
    assert all(value[0] == "failed" for key, value in report.items() if key.startswith("/proc")), report
    assert Path("/proc/sys/kernel/core_pattern").read_text() == before


def test_host_processes_are_invisible_and_unkillable(uid_mode):
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        report = _attack(FRAME_WALK, f"""
import signal
attempt("pids", lambda: sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
attempt("kill host pid", lambda: os.kill({sleeper.pid}, signal.SIGKILL))
""")
        pids = json.loads(report["pids"][1])
        assert len(pids) <= 4 and sleeper.pid not in pids and os.getpid() not in pids, pids
        assert report["kill host pid"][0] == "failed"
        time.sleep(0.1)
        assert sleeper.poll() is None, "the host process was killed from inside the sandbox"
    finally:
        sleeper.kill()
        sleeper.wait()


def _sandbox_pids() -> set[str]:
    pids = set()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"jail.py" in cmdline and (b"/sandbox/" in cmdline or b"mathxfer-sbx-" in cmdline):
                pids.add(pid)
    return pids


@pytest.mark.parametrize("bypass", ["", FRAME_WALK], ids=["hook on", "hook off"])
def test_no_processes_left_behind(bypass, uid_mode):
    before = _sandbox_pids()
    code = bypass + ("import os, threading, time\n"
                     "threading.Thread(target=time.sleep, args=(30,)).start()\n"
                     "try:\n    os.setsid()\nexcept OSError:\n    pass\n"
                     "try:\n    os.fork() or (os.setsid(), time.sleep(30))\nexcept OSError:\n    pass\n"
                     "time.sleep(30)\n")
    r = run_python(code, limits=Limits(wall_s=1.5, cpu_s=1))
    assert r.status == "timeout", r
    time.sleep(0.3)
    assert not _sandbox_pids() - before


@pytest.fixture
def fresh_probe():
    sandbox._bwrap.cache_clear()
    yield
    sandbox._bwrap.cache_clear()
    sandbox._prlimit.cache_clear()


def _fake_bwrap(tmp_path: Path, script: str) -> str:
    fake = tmp_path / "bin" / "bwrap"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n" + script)
    fake.chmod(0o755)
    return str(fake)


@pytest.mark.parametrize("case", ["not installed", "path gone", "no namespaces", "no sandbox"])
def test_without_bubblewrap_nothing_runs(case, tmp_path, monkeypatch, fresh_probe):
    exe = {"not installed": None, "path gone": str(tmp_path / "missing" / "bwrap"),
           "no namespaces": lambda: _fake_bwrap(tmp_path, "echo 'bwrap: No permissions to create new "
                                                "namespace' >&2\nexit 1\n"),
           "no sandbox": lambda: _fake_bwrap(tmp_path, "echo '0 0'\n")}[case]   # 'runs' as root
    exe = exe() if callable(exe) else exe
    monkeypatch.setattr(sandbox.shutil, "which", lambda name, *a, **k: exe if name == "bwrap" else None)
    marker = tmp_path / "ran-unsandboxed"
    with pytest.raises(SandboxUnavailable, match="bubblewrap") as err:
        run_python(f"open({str(marker)!r}, 'w').write('x')", limits=FAST)
    if case == "not installed":
        assert "apt-get install bubblewrap" in str(err.value)
    assert not marker.exists()


def test_no_run_when_the_uid_maps_cannot_be_written(tmp_path, monkeypatch):
    if not sandbox._maps_itself():
        pytest.skip("only root (with seccomp) maps the namespace itself")
    run_python("pass", limits=FAST)   # the availability probe, with the real maps
    monkeypatch.setattr(sandbox, "_map_users", lambda mine, timeout: False)
    marker = tmp_path / "ran"
    start = time.monotonic()
    with pytest.raises(SandboxUnavailable, match="uid/gid maps"):
        run_python(f"open({str(marker)!r}, 'w').write('x')", limits=FAST)
    assert not marker.exists() and time.monotonic() - start < FAST.wall_s


def test_livecodebench_tests_pass_and_fail():
    tests = [{"input": "1 2\n", "output": "3\n", "testtype": "stdin"},
             {"input": "5 5\n", "output": "10\n", "testtype": "stdin"}]
    assert run_tests("a, b = map(int, input().split())\nprint(a + b)", tests, None, FAST)[:2] == (2, 2)
    assert run_tests("a, b = map(int, input().split())\nprint(a * b)", tests, None, FAST)[0] == 0
    functional = [{"input": "[1, 2]\n3", "output": "[1, 2, 3]", "testtype": "functional"}]
    code = "class Solution:\n    def add(self, xs, x):\n        return xs + [x]\n"
    assert run_tests(code, functional, "add", FAST)[:2] == (1, 1)


@pytest.mark.parametrize("how", ["prlimit", "preexec_fn"])
def test_resource_limits_reach_the_code(how, monkeypatch):
    if how == "preexec_fn":
        monkeypatch.setattr(sandbox, "_prlimit", lambda: None)
    elif not sandbox._prlimit():
        pytest.skip("no prlimit here")
    limits = Limits(wall_s=4, cpu_s=3, memory_mb=300, output_bytes=50_000, open_files=40, processes=20)
    r = run_python("import resource\nprint([resource.getrlimit(getattr(resource, 'RLIMIT_' + n))"
                   " for n in ('CPU', 'AS', 'FSIZE', 'NOFILE', 'CORE', 'NPROC')])", limits=limits)
    assert r.stdout.strip() == str([(3, 4), (300 << 20,) * 2, (50_000,) * 2, (40, 40), (0, 0), (20, 20)]), r


def test_signal_deaths_are_reported_as_such():
    r = run_python("import signal\nsignal.raise_signal(signal.SIGSEGV)", limits=FAST)
    assert r.status == "killed" and r.returncode == -signal.SIGSEGV, r
