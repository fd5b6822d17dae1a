"""Start a command under an address-space cap and report its own peak RSS.

    python -S launch.py RUSAGE_FILE AS_BYTES CLOSE_STDOUT -- COMMAND...

Why a launcher: Linux keeps ``ru_maxrss`` across ``execve``, so a child forked from the test
process reports at least the test process's resident size (pytest with a few specs loaded
is already ~80 MiB). Forked from this small process instead, the command's ``ru_maxrss`` is its
own. The launcher writes it (KiB), with the command's user and system CPU seconds, to
RUSAGE_FILE and exits with the command's status (or dies
of the same signal). It ignores SIGINT itself, so a Ctrl-C sent to the process group reaches
only the command.
"""

import os
import resource
import signal
import sys


def main() -> None:
    rusage_file, address_space, close_stdout = sys.argv[1:4]
    command = sys.argv[5:]
    signal.signal(signal.SIGINT, lambda signum, frame: None)  # reset to default by exec
    pid = os.fork()
    if pid == 0:
        limit = int(address_space)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        if close_stdout == "1":
            os.close(1)
        os.execv(command[0], command)
    _, status, usage = os.wait4(pid, 0)
    with open(rusage_file, "w", encoding="ascii") as handle:
        handle.write(f"{usage.ru_maxrss} {usage.ru_utime} {usage.ru_stime}")
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)
    os._exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
