"""Run untrusted generated code (LiveCodeBench-style) in a separate, limited process.

Layers, outermost first:
- a fresh temp dir as cwd and HOME, a clean environment (no secrets inherited), ``python -I``;
- no network: ``unshare -n`` (root) or ``unshare -rn`` (unprivileged user namespaces) puts the child
  in an empty network namespace; where neither works the run still happens, the audit hook below
  refuses sockets, and ``SandboxResult.network_isolated`` says False;
- resource limits (setrlimit): CPU seconds, address space, output file size (stdout/stderr go to
  files, so a flood hits RLIMIT_FSIZE), open files, no core dumps, processes (not enforced for root);
- an audit hook (PEP 578) installed before the code runs: file opens outside the temp dir (reads of
  the Python installation excepted), deleting/renaming outside it, fork/exec/spawn/subprocess,
  sockets and ctypes all raise PermissionError;
- its own session: on timeout, and after every run, the whole process group is SIGKILLed, so
  nothing is left behind.
An audit hook is not a kernel boundary (native extensions could bypass it; ctypes and the
subprocess C helper are refused for that reason). Use a container or VM for hostile workloads.
"""

from __future__ import annotations

import functools
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# Runs inside the child before the generated code: argv = [jail, workdir, script].
_JAIL = r'''
import os, sys
work = os.path.realpath(sys.argv[1]); script = sys.argv[2]
readable = tuple({os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix,
                  sys.base_exec_prefix, *[p for p in sys.path if p])})
import runpy, io  # everything the jail needs, loaded before the hook goes in
def inside(path, roots):
    path = os.path.realpath(path)
    return any(path == r or path.startswith(r + os.sep) for r in roots)
BANNED_EVENTS = {"os.fork", "os.forkpty", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
                 "subprocess.Popen", "os.kill", "os.killpg", "signal.pthread_kill", "socket.connect",
                 "socket.bind", "socket.sendto", "socket.getaddrinfo", "ctypes.dlopen", "ctypes.dlsym",
                 "os.symlink", "os.link", "os.chroot", "os.setuid", "resource.setrlimit", "sys.addaudithook"}
BANNED_MODULES = {"_posixsubprocess", "_ctypes", "ctypes", "_socket", "socket", "mmap", "pty", "fcntl"}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
PATH_EVENTS = {"os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.truncate",
               "os.utime", "shutil.rmtree", "shutil.move", "shutil.copyfile"}
def hook(event, args):
    if event in BANNED_EVENTS:
        raise PermissionError(f"sandbox: {event} is not allowed")
    if event == "import" and args[0].split(".")[0] in BANNED_MODULES:
        raise PermissionError(f"sandbox: importing {args[0]} is not allowed")
    if event == "open":
        path, mode, flags = args
        if isinstance(path, int) or path is None:
            return
        path = os.fsdecode(path)
        writing = (mode is not None and any(c in mode for c in "wax+")) or bool((flags or 0) & WRITE_FLAGS)
        if inside(path, (work,)) or (not writing and inside(path, readable)):
            return
        raise PermissionError(f"sandbox: may not {'write' if writing else 'read'} {path}")
    if event in PATH_EVENTS or event in ("os.listdir", "os.scandir"):
        for p in args:
            if isinstance(p, (str, bytes, os.PathLike)) and not inside(os.fsdecode(p), (work,)) \
                    and not (event in ("os.listdir", "os.scandir") and inside(os.fsdecode(p), readable)):
                raise PermissionError(f"sandbox: {event} outside the sandbox: {os.fsdecode(p)}")
sys.addaudithook(hook)
del hook
sys.argv = [script]
runpy.run_path(script, run_name="__main__")
'''


@dataclass(frozen=True)
class Limits:
    wall_s: float = 10.0
    cpu_s: int = 6
    memory_mb: int = 1024
    output_bytes: int = 1 << 20
    open_files: int = 64
    processes: int = 32


@dataclass(frozen=True)
class SandboxResult:
    status: str            # ok | error | timeout | memory | output_limit | killed
    returncode: int | None
    stdout: str
    stderr: str
    wall_s: float
    network_isolated: bool

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@functools.cache
def _netns_prefix() -> tuple[str, ...]:
    """The `unshare` invocation that works here, or () when none does (then the audit hook alone)."""
    exe = shutil.which("unshare")
    if exe is None:
        return ()
    for flags in (("-n",), ("-rn",)):
        try:
            if subprocess.run([exe, *flags, "true"], capture_output=True, timeout=10).returncode == 0:
                return (exe, *flags, "--")
        except (OSError, subprocess.TimeoutExpired):
            continue
    return ()


def _limit(limits: Limits) -> None:  # runs in the child between fork and exec
    mem = limits.memory_mb << 20
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.output_bytes, limits.output_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_python(code: str, stdin: str = "", limits: Limits = Limits()) -> SandboxResult:
    """Run ``code`` as a script in a fresh temp dir under the limits above; never raises for bad code."""
    netns = _netns_prefix()
    with tempfile.TemporaryDirectory(prefix="mathxfer-sbx-") as outer:
        work = Path(outer) / "work"      # the code's world
        io_dir = Path(outer) / "io"      # stdout/stderr/jail: the parent's, outside the code's reach
        work.mkdir()
        io_dir.mkdir()
        script = work / "main.py"
        script.write_text(code, encoding="utf-8")
        jail = io_dir / "jail.py"
        jail.write_text(_JAIL, encoding="utf-8")
        env = {"PATH": "/usr/bin:/bin", "HOME": str(work), "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"}
        cmd = [*netns, sys.executable, "-I", str(jail), str(work), str(script)]
        start = time.monotonic()
        with open(io_dir / "out", "wb") as out, open(io_dir / "err", "wb") as err:
            proc = subprocess.Popen(cmd, cwd=work, env=env, stdin=subprocess.PIPE, stdout=out, stderr=err,
                                    start_new_session=True, preexec_fn=lambda: _limit(limits))
            timed_out = False
            try:
                proc.communicate(stdin.encode(), timeout=limits.wall_s)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                _kill_group(proc.pid)   # the session leader's pid is the group id
                proc.wait()
        wall = time.monotonic() - start
        stdout = (io_dir / "out").read_bytes()[: limits.output_bytes].decode("utf-8", "replace")
        stderr = (io_dir / "err").read_bytes()[: limits.output_bytes].decode("utf-8", "replace")
    rc = proc.returncode
    status = _status(timed_out, rc, stderr)
    return SandboxResult(status, None if timed_out else rc, stdout, stderr, wall, bool(netns))


def _status(timed_out: bool, rc: int, stderr: str) -> str:
    if timed_out or rc in (-signal.SIGXCPU, -signal.SIGKILL):
        return "timeout"
    if rc == -signal.SIGXFSZ or "File too large" in stderr:  # Python ignores SIGXFSZ: EFBIG instead
        return "output_limit"
    if "MemoryError" in stderr:
        return "memory"
    if rc < 0:
        return "killed"
    return "ok" if rc == 0 else "error"
