/*
 * A UDP echo server for network tests (busybox has no UDP server applet): binds 0.0.0.0:<port>
 * (argv[1]) and sends every datagram back to its sender, prefixed with "echo:". Built static at test
 * time, so it runs in a busybox image without a libc.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    if (port <= 0 || port > 65535) {
        fprintf(stderr, "bad port: %s\n", argv[1]);
        return 2;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        perror("socket");
        return 1;
    }
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    addr.sin_port = htons((unsigned short) port);
    if (bind(fd, (struct sockaddr *) &addr, sizeof addr) != 0) {
        perror("bind");
        return 1;
    }
    printf("listening on udp %d\n", port);
    fflush(stdout);
    static const char prefix[] = "echo:";
    char in[2048];
    char out[sizeof prefix - 1 + sizeof in];
    for (;;) {
        struct sockaddr_in peer;
        socklen_t peer_len = sizeof peer;
        ssize_t n = recvfrom(fd, in, sizeof in, 0, (struct sockaddr *) &peer, &peer_len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            perror("recvfrom");
            return 1;
        }
        memcpy(out, prefix, sizeof prefix - 1);
        memcpy(out + sizeof prefix - 1, in, (size_t) n);
        if (sendto(fd, out, sizeof prefix - 1 + (size_t) n, 0, (struct sockaddr *) &peer, peer_len) < 0) {
            perror("sendto");
        }
    }
}
