/*
 * What one system call costs on this machine, for the calls the broker and the Bun reference make per dispatch:
 * the per-call price that bench/profile-pair.sh multiplies by their counts. On a connected loopback TCP pair, each
 * call in a loop of 200,000, twice.
 *
 *     gcc -O2 bench/syscall-cost.c -o /tmp/syscall-cost && taskset -c 0 /tmp/syscall-cost
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(void)
{
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t length = sizeof address;
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0 || bind(listener, (void *)&address, sizeof address) || listen(listener, 1)
        || getsockname(listener, (void *)&address, &length)) {
        perror("listen");
        return 1;
    }
    int client = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(client, (void *)&address, sizeof address)) {
        perror("connect");
        return 1;
    }
    int server = accept(listener, NULL, NULL);
    const int n = 200000;
    struct tcp_info info;
    char byte;
    for (int round = 1; round <= 2; round++) {
        double start = now_ns();
        for (int i = 0; i < n; i++) getppid();
        printf("round %d  getppid (no work: entry and exit only)     %5.0f ns\n", round, (now_ns() - start) / n);
        start = now_ns();
        for (int i = 0; i < n; i++) { socklen_t l = sizeof info; getsockopt(server, IPPROTO_TCP, TCP_INFO, &info, &l); }
        printf("round %d  getsockopt(TCP_INFO)                        %5.0f ns\n", round, (now_ns() - start) / n);
        start = now_ns();
        for (int i = 0; i < n; i++) { int d = dup(server); close(d); }
        printf("round %d  dup + close                                 %5.0f ns\n", round, (now_ns() - start) / n);
        start = now_ns();
        for (int i = 0; i < n; i++) recv(server, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        printf("round %d  recv, nothing to read (EAGAIN)              %5.0f ns\n", round, (now_ns() - start) / n);
        start = now_ns();
        for (int i = 0; i < n; i++) { struct pollfd p = { server, POLLIN | POLLRDHUP, 0 }; poll(&p, 1, 0); }
        printf("round %d  poll, one socket                            %5.0f ns\n", round, (now_ns() - start) / n);
    }
    return 0;
}
