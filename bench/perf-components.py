#!/usr/bin/env python3
"""Splits a CPU profile of the native broker by component.

Record the Native AOT executable (it has native symbols, so perf needs no map files) under the compare load, then:
    perf record -F 2000 -g -p PID -o perf.data -- sleep 5
    perf script -i perf.data -F ip,sym | bench/perf-components.py

Each sample is charged to the innermost frame that belongs to a known component, so runtime helpers (locks,
allocation, interface dispatch) count for the code that called them. Kernel frames are charged to the kernel.
"""
import collections
import re
import sys

# First match wins, tested from the innermost frame outwards.
COMPONENTS = [
    ("kernel (TCP/IP loopback, wake-ups, system calls)", r"^(entry_SYSCALL|do_syscall|__x64_sys|__sys_|tcp_|ip_|__tcp|__ip|sock_|__sock|_raw_spin|finish_task_switch|__schedule|schedule|skb|__skb|kfree|net_rx|__netif|netif|handle_softirq|do_softirq|__local_bh|__dev_queue|dev_hard|loopback|process_backlog|__napi|asm_|irq|sysvec|syscall_|__wake|try_to_wake|ep_|do_epoll|__do_sys|fdget|fput|__fput|__alloc_skb|kmem|__kmalloc|copy_|_copy|read_tsc|ktime|bbr|rcu|__inet|inet_|__close|close_fd|filp|__raw|native_|pv_|__pv|[a-z0-9_]+\.isra|[a-z0-9_]+\.constprop)"),
    ("libc system-call stubs", r"^(__libc_recv|__send|__getsockopt|__GI_|__close|__dup|dup$|epoll_wait|pthread|__lll|__futex|syscall$)"),
    ("metrics (OpenTelemetry, ASP.NET Core meters)", r"^OpenTelemetry_|Metrics_|HostingMetrics|KestrelMetrics|System_Diagnostics_DiagnosticSource_System_Diagnostics_Metrics"),
    ("Firestarter: dispatch JSON (Utf8JsonReader)", r"DispatchMessageReader|Utf8JsonReader"),
    ("Firestarter: handoff and TCP_INFO reads", r"Firestarter_Dispatching_Handoff|ConnectionWatch"),
    ("Firestarter: the rest", r"^Firestarter_"),
    ("YARP pipeline", r"^Yarp_"),
    ("rate limiting middleware", r"RateLimiting"),
    ("authorization middleware", r"Authorization"),
    ("routing", r"AspNetCore_Routing"),
    ("host filtering", r"HostFiltering"),
    ("hosting (HttpContext per request)", r"AspNetCore_Hosting"),
    ("Kestrel HTTP/1.1", r"Kestrel_Core"),
    ("Kestrel socket transport", r"Kestrel_Transport"),
    ("System.IO.Pipelines", r"System_IO_Pipelines"),
    ("socket engine (epoll loop)", r"System_Net_Sockets"),
    ("GC", r"^(WKS::|SVR::|GCHeap|RhpNew|RhpGcAlloc|RhNew|Rhp.*Alloc)"),
]
RULES = [(name, re.compile(rx)) for name, rx in COMPONENTS]


def stacks(lines):
    current = []
    for line in lines:
        line = line.strip()
        if not line:
            if current:
                yield current
                current = []
            continue
        parts = line.split(None, 1)
        current.append(parts[1] if len(parts) > 1 else "?")
    if current:
        yield current


def component(stack):
    for frame in stack:
        for name, rx in RULES:
            if rx.search(frame):
                return name
    return "other (runtime, CoreLib outside any component)"


def main():
    counts = collections.Counter(component(s) for s in stacks(sys.stdin))
    total = sum(counts.values())
    if total == 0:
        sys.exit("no samples on stdin (pipe `perf script -F ip,sym` into this)")
    print(f"{total} samples")
    for name, n in counts.most_common():
        print(f"{n / total * 100:6.2f} %  {name}")


if __name__ == "__main__":
    main()
