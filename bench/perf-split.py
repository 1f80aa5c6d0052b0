#!/usr/bin/env python3
"""Splits a CPU profile of any server (the broker or the Bun reference) into system calls and user space.

Where `perf-components.py` names the broker's own components, this one puts two servers on one scale: each sample
is charged to the system call it is inside (its handler, and its libc wrapper), to the entry and exit of system
calls (the part no handler frame names), to the kernel outside any system call (interrupts, soft interrupts,
scheduling), or to user space by the executable or library it ran in.
Given the server's CPU time per dispatch, each share becomes microseconds per dispatch.

    perf record -F 2000 -g -p PID -o perf.data -- sleep 5
    perf script -i perf.data -F ip,sym,dso | bench/perf-split.py --us-per-dispatch 54.2
"""
import argparse
import collections
import importlib.util
import pathlib
import re
import sys

SYSCALL = re.compile(r"^(?:__x64_sys_|__do_sys_|__se_sys_)(\w+)")
# libc's wrappers, by the call they make: their own samples are the entry and exit of that system call.
WRAPPERS = [
    (re.compile(r"^(__libc_recv|recv|__recv|recvfrom|__libc_recvfrom)$"), "recvfrom"),
    (re.compile(r"^(__send|__libc_send|send|sendto|__libc_sendto)$"), "sendto"),
    (re.compile(r"^(__getsockopt|getsockopt)$"), "getsockopt"),
    (re.compile(r"^(__GI___dup|__dup|dup)$"), "dup"),
    (re.compile(r"^(__close|__libc_close|close|__GI___close)$"), "close"),
    (re.compile(r"^(epoll_wait|epoll_pwait|epoll_pwait2|__epoll_wait)$"), "epoll_wait"),
    (re.compile(r"^(writev|__writev|readv|__readv|write|__libc_write|read|__libc_read)$"), None),
]
ALIASES = {"recv": "recvfrom", "send": "sendto", "epoll_pwait": "epoll_wait", "epoll_pwait2": "epoll_wait"}
# A frame as `perf script -F ip,sym,dso` prints it, once perf-components.py's reader has dropped the address.
FRAME = re.compile(r"^(.*?)\s+\((.*)\)$")


def _load_components():
    spec = importlib.util.spec_from_file_location("perf_components", pathlib.Path(__file__).with_name("perf-components.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def samples(lines):
    """Each sample's stack, innermost frame first, as (symbol, executable or library) pairs."""
    for stack in _load_components().stacks(lines):
        frames = []
        for text in stack:
            m = FRAME.match(text)
            sym, dso = (m.group(1), m.group(2)) if m else (text, "")
            frames.append((re.sub(r"\+0x[0-9a-f]+$", "", sym), dso))
        yield frames


def classify(stack):
    for sym, _ in stack:
        m = SYSCALL.match(sym)
        if m:
            name = ALIASES.get(m.group(1), m.group(1))
            return f"system call: {name}"
    leaf_sym, leaf_dso = stack[0]
    if "kernel" in leaf_dso:
        # In a system call's entry or exit, before or after its handler (on a paravirtualized guest this is where
        # enabling interrupts through the hypervisor lands): a cost every call pays, whichever it is.
        if any(sym.startswith(("do_syscall_64", "entry_SYSCALL")) for sym, _ in stack):
            return "system call entry and exit (any call)"
        return "kernel, outside system calls (interrupts, soft interrupts, scheduling)"
    for rx, name in WRAPPERS:
        if rx.match(leaf_sym):
            return f"system call: {name or leaf_sym}"
    dso = leaf_dso.rsplit("/", 1)[-1]
    if dso in ("[unknown]", "") or dso.startswith("perf-") or "jitted" in dso:
        dso = "JIT code (no symbols)"
    return f"user: {dso}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--us-per-dispatch", type=float, default=None, help="the server's CPU time per dispatch")
    parser.add_argument("--top", type=int, default=14)
    args = parser.parse_args()
    counts = collections.Counter(classify(s) for s in samples(sys.stdin) if s)
    total = sum(counts.values())
    if total == 0:
        sys.exit("no samples")
    syscalls = sum(n for k, n in counts.items() if k.startswith("system call"))
    user = sum(n for k, n in counts.items() if k.startswith("user"))
    rows = counts.most_common(args.top)
    rows += [("all system calls", syscalls), ("all user space", user), ("total", total)]
    print(f"{total} samples")
    for name, n in rows:
        us = f"  {n / total * args.us_per_dispatch:6.1f} µs/dispatch" if args.us_per_dispatch else ""
        print(f"{n / total * 100:6.2f} %{us}  {name}")


if __name__ == "__main__":
    main()
