// Loopback load generator for scripts/bench-live: sends UDP datagrams to 127.0.0.1:PORT at a
// target rate (packets per second; 0 = as fast as possible) for SECONDS, then prints how many it
// sent. Only ever sends to the loopback address.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s PORT RATE_PPS SECONDS [PAYLOAD_BYTES]\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    double rate = atof(argv[2]);
    double seconds = atof(argv[3]);
    int size = argc > 4 ? atoi(argv[4]) : 64;
    if (size < 1 || size > 1400) size = 64;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) { perror("socket"); return 1; }
    struct sockaddr_in dst = {0};
    dst.sin_family = AF_INET;
    dst.sin_port = htons((unsigned short)port);
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&dst, sizeof dst) != 0) { perror("connect"); return 1; }
    char payload[1400];
    memset(payload, 'x', sizeof payload);
    enum { BATCH = 32 };
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    for (int i = 0; i < BATCH; i++) {
        iov[i].iov_base = payload;
        iov[i].iov_len = (size_t)size;
        memset(&msgs[i], 0, sizeof msgs[i]);
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    double start = now(), end = start + seconds;
    long sent = 0;
    for (;;) {
        double t = now();
        if (t >= end) break;
        if (rate > 0) {
            long due = (long)((t - start) * rate);
            if (sent >= due) {
                usleep(50);
                continue;
            }
        }
        int n = sendmmsg(fd, msgs, BATCH, 0);
        if (n > 0) sent += n;
    }
    printf("%ld\n", sent);
    return 0;
}
