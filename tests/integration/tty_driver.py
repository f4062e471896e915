"""Drives `runsc do -t bash` through a host pseudo-terminal, as a user at a
terminal would: typed commands, the window size, ^C and ^Z, and exit.

usage: tty_driver.py RUNSC
Prints what it checked; exits 0 when everything matched.
"""
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time

RUNSC = sys.argv[1]
fd = -1
pid = -1
buf = b""


def start():
    """runsc do -t bash on a new host pty."""
    global fd, pid, buf
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["PS1"] = "PROMPT$ "
        os.execv(RUNSC, [RUNSC, "do", "-t", "--", "/bin/bash", "--norc", "-i"])
    buf = b""
    expect(b"PROMPT$ ")


def expect(want, timeout=60):
    """Reads until `want` shows up; the timeout only turns a hang into a
    failure."""
    global buf
    end = time.monotonic() + timeout
    while want not in buf:
        left = end - time.monotonic()
        r, _, _ = select.select([fd], [], [], max(0, left))
        if not r:
            sys.exit("timeout waiting for %r; got %r" % (want, buf[-400:]))
        try:
            data = os.read(fd, 4096)
        except OSError:
            data = b""
        if not data:
            sys.exit("eof waiting for %r; got %r" % (want, buf[-400:]))
        buf += data
    i = buf.index(want) + len(want)
    seen, buf = buf[:i], buf[i:]
    return seen


def type_line(line):
    os.write(fd, line.encode() + b"\r")


start()
type_line("echo $((6*7))-$(tty)")
expect(b"42-/dev/pts/")
expect(b"PROMPT$ ")
print("ok: a command ran on a sandbox pty")

# The host terminal's size reaches the sandbox's terminal (SIGWINCH to
# runsc, a window size message, TIOCSWINSZ inside). The resize and the
# typed command race inside runsc, so ask until it shows.
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 77, 0, 0))
for attempt in range(50):
    type_line("stty size")
    seen = expect(b"PROMPT$ ")
    if b"33 77" in seen:
        break
else:
    sys.exit("window size never arrived: %r" % seen)
print("ok: window size")

# ^C interrupts the foreground job, not the shell.
type_line("sh -c 'echo rea\"\"dy; exec sleep 1000'")
expect(b"ready")
os.write(fd, b"\x03")
expect(b"PROMPT$ ")
type_line("echo status=$?")
expect(b"status=130")
expect(b"PROMPT$ ")
print("ok: ^C")

type_line("exit 7")
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
if code != 7:
    sys.exit("runsc exited %d, not 7" % code)
print("ok: exit status")

# ^Z stops the foreground job; the shell takes the terminal back. Killed,
# the job ends, and the shell exits with the asked status.
start()
type_line("sh -c 'echo rea\"\"dy; exec sleep 1000'")
expect(b"ready")
os.write(fd, b"\x1a")
expect(b"Stopped")
expect(b"PROMPT$ ")
type_line("kill -9 %1; wait; echo kil\"\"led")
expect(b"killed")
expect(b"PROMPT$ ")
print("ok: ^Z")
# Until bash has reaped the killed job (its SIGCHLD may come after the
# next prompt, as it may on Linux) it refuses the first exit with "There
# are stopped jobs."; a second exit ends it anyway, as at a terminal.
type_line("exit 8")
end = time.monotonic() + 60
code = None
asked_again = False
while code is None:
    if time.monotonic() > end:
        os.kill(pid, signal.SIGKILL)
        sys.exit("runsc did not exit after exit 8; got %r" % buf[-400:])
    done, status = os.waitpid(pid, os.WNOHANG)
    if done == pid:
        code = os.waitstatus_to_exitcode(status)
        break
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            buf += os.read(fd, 4096)
        except OSError:
            pass
    if b"stopped jobs" in buf and not asked_again:
        asked_again = True
        type_line("exit 8")
if code != 8:
    sys.exit("runsc exited %d after ^Z and kill, not 8" % code)
print("ok: exit after a stopped job")
