"""The process's resident memory and the machine's limits, for ``--execute``: what the process
holds now and at its peak (the kernel's high-water mark, resettable), what RAM and the
address-space limit leave, and glibc's free heap pages returned to the system."""

from __future__ import annotations

import ctypes
import os
import resource
import sys


def available_bytes() -> int:
    """MemAvailable from /proc/meminfo, or the physical memory where that is missing."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def address_space_bytes() -> int | None:
    """What RLIMIT_AS (``ulimit -v``) leaves of the address space, or None without a limit."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            size = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        size = 0
    return max(soft - size, 0)


def default_limit() -> tuple[int, str]:
    """The default ``--max-memory``, as a resident-memory figure comparable with the estimate:
    the process's resident memory plus the smaller of half the available RAM and what the
    address-space limit leaves; with the name of the limit that decided it."""
    half = available_bytes() // 2
    left = address_space_bytes()
    if left is not None and left < half:
        return current_rss_bytes() + left, "what the address-space limit (ulimit -v) leaves"
    return half, "the default limit (half the available RAM)"


def reset_peak() -> bool:
    """Reset the kernel's high-water mark (VmHWM) to the current resident size (Linux 4.0+:
    write 5 to /proc/self/clear_refs); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def release_free_heap() -> bool:
    """Return the heap's free pages to the system (glibc's ``malloc_trim(0)``); False where
    there is no glibc. Called after the warm-up pass: glibc keeps up to twice its mmap threshold
    (which the first pass raises, up to 64 MiB) of freed heap resident, and a timed pass whose
    first arrays are too large for that heap would add its own on top (VGG-16 at batch 8: 42 MiB
    above the cold pass's peak without this, docs/benchmarks.md)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    trim(0)
    return True


def current_rss_bytes() -> int:
    """The process's resident memory now (/proc/self/statm), or its peak so far elsewhere."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return peak_rss_bytes()


def peak_rss_bytes() -> int:
    """The process's peak resident set size so far: VmHWM from /proc/self/status where there is
    one (ru_maxrss would carry over the parent's peak across fork and exec), else ru_maxrss
    (KiB on Linux, bytes on macOS)."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024
