"""Run untrusted generated code (LiveCodeBench-style) in a kernel sandbox: bubblewrap (``bwrap``).

The boundary is the kernel's namespaces, which bwrap sets up afresh for every run (``bwrap_argv``):
- user namespace: the code runs as uid/gid 65534 (nobody) without capabilities. Who that is on the host:
  for a root caller (CI) this process writes the namespace's maps itself (``--userns-block-fd``): ns
  65534 is host 65534, so the kernel's checks that look at uid 0 rather than at capabilities do not
  apply to it (bwrap's own mapping would make it host uid 0, which may write /proc/sys, e.g.
  kernel.core_pattern: a host root escape); the jail switches from ns root, which exists only for
  bwrap's setup, to 65534 before it reads the code. For another caller bwrap maps 65534 to the caller
  (``--uid 65534 --gid 65534 --disable-userns``);
- mount namespace: an empty, read-only root holding only what the interpreter needs, bound read-only:
  the system libraries (/usr/lib, /usr/lib64 and the /lib, /lib64 links), the base Python's executable,
  its libpython and its standard library (its site-packages hidden under an empty read-only tmpfs).
  No /etc, /home, /work, host /tmp, nothing else of /root, no project venv or site-packages. /proc
  (of its own pid namespace) and a minimal /dev are read-only too. The code and the jail are bound
  read-only at /sandbox; a private tmpfs at /tmp of ``Limits.scratch_mb`` (cwd, HOME and TMPDIR are
  /tmp/work) is the only writable place and vanishes with the run;
- pid namespace (only the sandbox's own two processes are visible: host processes can be neither seen
  nor signalled), network namespace (a loopback that is down: no network, not even the host's
  127.0.0.1 or its abstract unix sockets), ipc, uts and cgroup namespaces;
- ``--clearenv`` plus PATH/HOME/TMPDIR/LANG, ``--new-session`` (no terminal to push input into),
  ``--die-with-parent``, ``--cap-drop ALL``; ``python -I -S -B`` (no site, no PYTHON* variables).
Further layers:
- seccomp (x86_64, aarch64): no fork, vfork or clone of a process (threads are fine): no fork bombs and
  no subprocesses; no unshare/setns (no nested namespaces), ptrace, kernel keyrings, bpf,
  perf_event_open, userfaultfd, io_uring, process_vm_readv/writev. Other architectures run without it
  and with bwrap's own mapping;
- resource limits (setrlimit before bwrap starts, inherited): CPU seconds, address space, output file
  size (stdout/stderr are host files the code holds only descriptors of, so a flood hits
  RLIMIT_FSIZE), open files, no core dumps, processes (for a root caller the kernel enforces this one
  only with the own maps: it exempts host uid 0);
- the wall clock: on timeout, and after every run, bwrap's process group is SIGKILLed; bwrap's init
  in the pid namespace dies with it, and the kernel then kills everything left in the namespace;
- an audit hook (PEP 578, ``_JAIL``) that refuses opens outside /tmp/work and the Python installation,
  fork/exec/subprocess, sockets and ctypes. It only turns the common cases into clean PermissionErrors:
  it is NOT a boundary (code finds and disables it through gc or frames); the namespaces are.
Not protected: the kernel itself (a kernel exploit escapes any namespace sandbox; seccomp narrows the
surface), host-wide read-only information in /proc (cpuinfo, meminfo, kernel version, uptime), and
CPU time, memory and scratch space up to the limits.
There is no fallback: where bwrap is missing or cannot create its namespaces, ``run_python`` raises
``SandboxUnavailable`` (install it with ``apt-get install bubblewrap`` as root, or ``bash
.ci/ensure-bubblewrap``) and runs nothing. Availability is checked once per process, by a real run.
"""

from __future__ import annotations

import functools
import json
import os
import resource
import select
import shutil
import signal
import struct
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mathxfer.errors import UsageError

INSTALL_HINT = "install it with 'apt-get install bubblewrap' as root (or 'bash .ci/ensure-bubblewrap')"
SANDBOX_UID = 65534
_INSIDE = "/sandbox"  # the code and the jail, read-only
_SCRATCH = "/tmp"     # the private tmpfs, the only writable place
_WORK = "/tmp/work"   # in it: cwd, HOME and TMPDIR

# Runs inside the sandbox before the generated code: argv = [jail, script, started_fd].
_JAIL = r'''
import os, sys
os.write(int(sys.argv[2]), b"1"); os.close(int(sys.argv[2]))  # tells the parent bwrap set up the sandbox
if len(sys.argv) > 3:  # root callers: still ns root with CAP_SETUID/CAP_SETGID only; become 65534 for good
    uid = int(sys.argv[3])
    os.setgroups([]); os.setresgid(uid, uid, uid); os.setresuid(uid, uid, uid)
    status = dict(line.split(":", 1) for line in open("/proc/self/status"))
    if os.getresuid() != (uid,) * 3 or any(int(status[c], 16) for c in ("CapEff", "CapPrm", "CapAmb")):
        os._exit(125)
work = os.path.realpath(os.getcwd()); script = sys.argv[1]
with open(script, "rb") as f:
    source = compile(f.read(), script, "exec")
readable = tuple({os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix,
                  sys.base_exec_prefix, os.path.dirname(script), *[p for p in sys.path if p])})
import builtins, _sitebuiltins  # everything the jail needs, loaded before the hook goes in
builtins.exit = _sitebuiltins.Quitter("exit", "Ctrl-D (i.e. EOF)")  # what `site` (-S: skipped) adds
builtins.quit = _sitebuiltins.Quitter("quit", "Ctrl-D (i.e. EOF)")
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
main = type(sys)("__main__")  # what runpy.run_path does, without its 20 ms of imports (pkgutil, typing)
main.__file__, main.__builtins__ = script, builtins
sys.modules["__main__"] = main
del f, main
exec(source, sys.modules["__main__"].__dict__)
'''


class SandboxUnavailable(UsageError):
    """bwrap is missing or cannot create its namespaces here; generated code is then never run."""


@dataclass(frozen=True)
class Limits:
    wall_s: float = 10.0
    cpu_s: int = 6
    memory_mb: int = 1024
    output_bytes: int = 1 << 20
    open_files: int = 64
    processes: int = 32
    scratch_mb: int = 64      # size of the private tmpfs (files the code writes live in memory)


@dataclass(frozen=True)
class SandboxResult:
    status: str            # ok | error | timeout | memory | output_limit | killed
    returncode: int | None
    stdout: str
    stderr: str
    wall_s: float
    isolation: str         # the layers the run had, e.g. "bwrap(user,mount,pid,net,ipc,uts,cgroup)+seccomp"

    @property
    def ok(self) -> bool:
        return self.status == "ok"


# seccomp (classic BPF over struct seccomp_data: nr at 0, arch at 4, args[0] at 16).
_LD, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
_ALLOW, _KILL, _ERRNO = 0x7FFF0000, 0x80000000, 0x00050000
_CLONE_THREAD = 0x00010000
_EPERM, _ENOSYS = 1, 38
# machine: (AUDIT_ARCH, clone, clone3, denied with EPERM), from <asm/unistd_64.h> / <asm-generic/unistd.h>.
_SYSCALLS = {
    # fork vfork unshare setns ptrace keyctl add_key request_key bpf perf_event_open userfaultfd
    # io_uring_setup process_vm_readv process_vm_writev
    "x86_64": (0xC000003E, 56, 435, (57, 58, 272, 308, 101, 250, 248, 249, 321, 298, 323, 425, 310, 311)),
    "aarch64": (0xC00000B7, 220, 435, (97, 268, 117, 219, 217, 218, 280, 241, 282, 425, 270, 271)),
}


@functools.cache
def _seccomp_program() -> bytes | None:
    """The filter for this machine, or None where its syscall numbers are not known here."""
    table = _SYSCALLS.get(os.uname().machine)
    if table is None:
        return None
    arch, clone, clone3, denied = table
    prog = [(_LD, 0, 0, 4), (_JEQ, 1, 0, arch), (_RET, 0, 0, _KILL), (_LD, 0, 0, 0)]
    if arch == 0xC000003E:
        prog += [(_JGE, 0, 1, 0x40000000), (_RET, 0, 0, _KILL)]       # the x32 ABI
    prog += [(_JEQ, 0, 1, clone3), (_RET, 0, 0, _ERRNO | _ENOSYS)]    # libc falls back to clone
    for nr in denied:
        prog += [(_JEQ, 0, 1, nr), (_RET, 0, 0, _ERRNO | _EPERM)]
    prog += [(_JEQ, 1, 0, clone), (_RET, 0, 0, _ALLOW),                 # clone: only of threads
             (_LD, 0, 0, 16), (_JSET, 0, 1, _CLONE_THREAD), (_RET, 0, 0, _ALLOW),
             (_RET, 0, 0, _ERRNO | _EPERM)]
    return b"".join(struct.pack("=HBBI", *ins) for ins in prog)


def isolation() -> str:
    return "bwrap(user,mount,pid,net,ipc,uts,cgroup)" + ("+seccomp" if _seccomp_program() else "")


@functools.cache
def _interpreter() -> tuple[str, tuple[str, ...]]:
    """The base interpreter (never the venv's) and the bwrap arguments that make it, and only it, run."""
    exe = os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)
    stdlib = os.path.realpath(os.path.dirname(os.__file__))
    args: list[str] = []
    for path in ("/usr/lib", "/usr/lib64", "/usr/lib32", "/lib", "/lib64", "/lib32"):
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    binds = [exe, stdlib]
    dynload = sysconfig.get_config_var("DESTSHARED")
    if dynload and os.path.isdir(dynload) and not os.path.realpath(dynload).startswith(stdlib + os.sep):
        binds.append(os.path.realpath(dynload))
    libpython = os.path.join(sysconfig.get_config_var("LIBDIR") or "",
                             sysconfig.get_config_var("INSTSONAME") or "")
    if sysconfig.get_config_var("Py_ENABLE_SHARED") and os.path.isfile(libpython):
        binds.append(os.path.realpath(libpython))
    for path in binds:
        args += ["--ro-bind", path, path]
    # bwrap creates the missing parents of these (/usr, /root, ...) 0700 when root maps the namespace
    # itself, which would lock uid 65534 out: create them first, 0755.
    dests = [args[i + 2] for i, a in enumerate(args) if a in ("--ro-bind", "--symlink")]
    parents = sorted({str(p) for d in dests for p in Path(d).parents if str(p) != "/"}, key=len)
    args = [arg for p in parents for arg in ("--perms", "0755", "--dir", p)] + args
    base = {"base": sys.base_prefix, "platbase": sys.base_exec_prefix,
            "installed_base": sys.base_prefix, "installed_platbase": sys.base_exec_prefix}
    sites = {os.path.realpath(sysconfig.get_path(key, vars=base)) for key in ("purelib", "platlib")}
    for site in sorted(sites):  # the base interpreter's installed packages: not needed, hidden
        if os.path.isdir(site) and any(site.startswith(b + os.sep) for b in binds):
            args += ["--tmpfs", site, "--remount-ro", site]
    return exe, tuple(args)


def _maps_itself() -> bool:
    """Whether this process maps the sandbox's user namespace itself (as root, with seccomp here).

    bwrap's own mapping puts the sandbox's uid 65534 on the caller's uid: for root, host uid 0. Without
    capabilities, but uid 0 still passes the kernel's owner checks, e.g. on the global sysctls in
    /proc/sys (it could set kernel.core_pattern, a host root escape). So root callers write the maps
    (--userns-block-fd): ns uid 65534 is host uid 65534; ns uid 0 is host root, for bwrap's own setup
    only, and the jail switches to 65534 before it reads the code. That mode cannot have
    --disable-userns, so it needs the seccomp layer (no unshare/clone of namespaces) in its place."""
    return os.geteuid() == 0 and _seccomp_program() is not None


def bwrap_argv(bwrap: str, inputs: str, limits: Limits, fds: dict[str, int]) -> list[str]:
    """The full bwrap command line. ``inputs`` (a host dir with jail.py and main.py) is bound at /sandbox;
    ``fds``: started (the jail writes a byte on it), seccomp (the filter, where there is one) and, when
    this process writes the uid/gid maps itself, block and info (bwrap's --userns-block-fd, --info-fd)."""
    exe, interpreter = _interpreter()
    if "block" in fds:
        users = ["--userns-block-fd", str(fds["block"]), "--info-fd", str(fds["info"]), "--cap-drop", "ALL",
                 "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]     # the jail's switch to 65534
        switch = [str(SANDBOX_UID)]
    else:
        users = ["--disable-userns", "--cap-drop", "ALL", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)]
        switch = []
    return [
        bwrap, "--unshare-all", "--unshare-user", *users, "--die-with-parent", "--new-session",
        "--hostname", "sandbox",
        "--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", _WORK,
        "--setenv", "TMPDIR", _WORK, "--setenv", "LANG", "C.UTF-8",
        *interpreter,
        "--proc", "/proc", "--remount-ro", "/proc", "--dev", "/dev", "--remount-ro", "/dev",
        "--size", str(limits.scratch_mb << 20), "--tmpfs", _SCRATCH, "--perms", "0777", "--dir", _WORK,
        "--ro-bind", inputs, _INSIDE,
        "--remount-ro", "/", "--chdir", _WORK,
        *(["--seccomp", str(fds["seccomp"])] if "seccomp" in fds else []),
        exe, "-I", "-S", "-B", "-X", "utf8", f"{_INSIDE}/jail.py", f"{_INSIDE}/main.py", str(fds["started"]),
        *switch,
    ]


@functools.cache
def _bwrap() -> str:
    """bwrap's path, once a real trial run here showed it sandboxes; SandboxUnavailable otherwise."""
    exe = shutil.which("bwrap")
    if exe is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed, and generated code is never run "
                                 f"without its sandbox: {INSTALL_HINT}")
    try:
        # main.py is the caller's file: its owner inside is the caller, seen from the sandbox's user.
        trial = _run(exe, "import os; print(os.getuid(), os.getgid(), os.stat(__file__).st_uid)", "",
                     Limits(wall_s=30, cpu_s=10))
    except (OSError, SandboxUnavailable) as err:
        raise SandboxUnavailable(f"bubblewrap ({exe}) cannot create its sandbox here, and generated code is "
                                 f"never run without it: {err}. It needs user namespaces (sysctls "
                                 "kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0; in a "
                                 "container, one allowed to create namespaces)") from err
    ids = trial.stdout.split()
    is_caller = ids[2:] == ids[:1]   # the code runs as the caller's host uid: fine, unless that is root
    if not trial.ok or ids[:2] != [str(SANDBOX_UID)] * 2 or (is_caller and _maps_itself()):
        raise SandboxUnavailable(f"bubblewrap ({exe}) ran a trial without the expected sandbox (status "
                                 f"{trial.status}, stdout {trial.stdout.strip()!r}, stderr "
                                 f"{trial.stderr.strip()[-300:]!r}); generated code is not run")
    return exe


def _rlimits(limits: Limits) -> dict[str, tuple[int, int]]:
    mem = limits.memory_mb << 20
    return {"cpu": (limits.cpu_s, limits.cpu_s + 1), "as": (mem, mem),
            "fsize": (limits.output_bytes, limits.output_bytes),
            "nofile": (limits.open_files, limits.open_files), "core": (0, 0),
            "nproc": (limits.processes, limits.processes)}


@functools.cache
def _prlimit() -> str | None:
    return shutil.which("prlimit")   # util-linux


def _limited(cmd: list[str], limits: Limits) -> tuple[list[str], Callable[[], None] | None]:
    """``cmd`` under the limits: through prlimit (so Popen needs no preexec_fn, which is unsafe in a
    process with threads), else a preexec_fn that sets them between fork and exec."""
    values = _rlimits(limits)
    if _prlimit():
        return [_prlimit(), *(f"--{name}={soft}:{hard}" for name, (soft, hard) in values.items()), "--",
                *cmd], None

    def preexec() -> None:
        for name, value in values.items():
            resource.setrlimit(getattr(resource, f"RLIMIT_{name.upper()}"), value)
    return cmd, preexec


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _exited(proc: subprocess.Popen, timeout: float) -> bool:
    """Whether ``proc`` ends within ``timeout``; a pidfd wakes at once (Popen.wait polls, sleeping up
    to 50 ms a turn, which was most of the time of a short run)."""
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        try:
            proc.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False
    try:
        return bool(select.select([pidfd], [], [], timeout)[0])
    finally:
        os.close(pidfd)


def run_python(code: str, stdin: str = "", limits: Limits = Limits()) -> SandboxResult:
    """Run ``code`` as a script in the bwrap sandbox under ``limits``; never raises for bad code, raises
    SandboxUnavailable (and runs nothing) where the sandbox cannot be had."""
    return _run(_bwrap(), code, stdin, limits)


def _run(bwrap: str, code: str, stdin: str, limits: Limits) -> SandboxResult:
    with tempfile.TemporaryDirectory(prefix="mathxfer-sbx-") as outer:
        inputs = Path(outer) / "in"      # bound read-only at /sandbox
        io_dir = Path(outer) / "io"      # stdin/stdout/stderr: host files the code only holds descriptors of
        inputs.mkdir()
        io_dir.mkdir()
        (inputs / "main.py").write_text(code, encoding="utf-8")
        (inputs / "jail.py").write_text(_JAIL, encoding="utf-8")
        (io_dir / "in").write_bytes(stdin.encode())
        program = _seccomp_program()
        child: dict[str, int] = {}     # the descriptors bwrap gets, by role
        mine: dict[str, int] = {}      # this process's ends
        try:
            mine["started"], child["started"] = os.pipe()
            if program is not None:
                child["seccomp"], seccomp_w = os.pipe()   # the program is a few hundred bytes: fits the pipe
                os.write(seccomp_w, program)
                os.close(seccomp_w)
            if _maps_itself():
                child["block"], mine["block"] = os.pipe()
                mine["info"], child["info"] = os.pipe()
            cmd, preexec = _limited(bwrap_argv(bwrap, str(inputs), limits, child), limits)
            start = time.monotonic()
            with open(io_dir / "in", "rb") as inp, open(io_dir / "out", "wb") as out, \
                    open(io_dir / "err", "wb") as err:
                proc = subprocess.Popen(cmd, env={"PATH": "/usr/bin:/bin"}, stdin=inp, stdout=out, stderr=err,
                                        start_new_session=True, pass_fds=tuple(child.values()),
                                        preexec_fn=preexec)  # noqa: PLW1509 (only without prlimit)
                for fd in child.values():
                    os.close(fd)
                child.clear()
                mapped = True
                try:
                    mapped = "block" not in mine or _map_users(mine, limits.wall_s)
                    timed_out = mapped and not _exited(proc, limits.wall_s)
                finally:
                    _kill_group(proc.pid)   # bwrap's group; its pid-namespace init dies with it, then all
                    proc.wait()
            wall = time.monotonic() - start
            os.set_blocking(mine["started"], False)
            try:
                started = os.read(mine["started"], 1) == b"1"
            except BlockingIOError:
                started = False
        finally:
            for fd in (*child.values(), *mine.values()):
                try:
                    os.close(fd)
                except OSError:
                    pass
        stdout = (io_dir / "out").read_bytes()[: limits.output_bytes].decode("utf-8", "replace")
        stderr = (io_dir / "err").read_bytes()[: limits.output_bytes].decode("utf-8", "replace")
    if not mapped or (not started and not timed_out and stderr.startswith("bwrap:")):
        raise SandboxUnavailable(f"bubblewrap could not set up the sandbox: {stderr.strip()[-300:]!r}"
                                 + ("" if mapped else " (could not write its uid/gid maps)"))
    rc = proc.returncode
    if rc is not None and 128 < rc <= 128 + 64:  # bwrap reports a signal as 128 + its number, like a shell
        rc = -(rc - 128)
    status = _status(timed_out, rc, stderr)
    return SandboxResult(status, None if timed_out else rc, stdout, stderr, wall, isolation())


def _map_users(mine: dict[str, int], timeout: float) -> bool:
    """For --userns-block-fd: read bwrap's child pid from --info-fd, write its uid/gid maps (ns 0 = host
    root, for bwrap's setup; ns 65534 = host 65534, for the code), then let bwrap go on. False when that
    failed: bwrap is then still blocked (or gone), and the caller kills it and runs nothing."""
    info = b""
    deadline = time.monotonic() + timeout
    while b"child-pid" not in info or not info.rstrip().endswith(b"}"):
        if not select.select([mine["info"]], [], [], max(0.0, deadline - time.monotonic()))[0]:
            return False
        chunk = os.read(mine["info"], 4096)
        if not chunk:
            return False
        info += chunk
    pid = json.loads(info)["child-pid"]
    mapping = f"0 0 1\n{SANDBOX_UID} {SANDBOX_UID} 1\n"
    try:
        for name in ("uid_map", "gid_map"):
            with open(f"/proc/{pid}/{name}", "w") as f:
                f.write(mapping)
    except OSError:
        return False
    os.write(mine["block"], b"1")
    return True


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
