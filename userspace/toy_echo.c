// SPDX-License-Identifier: GPL-2.0
/*
 * toy_echo: the classic TCP echo client and server, over AF_TOY.
 *
 *   toy_echo server [--once] PORT     serve clients, one at a time
 *                                     (--once: the first one only)
 *   toy_echo client PORT MSG...       send each MSG, print the reply
 *
 * The server answers every read with the same bytes upper-cased.  Both
 * sides print one line per socket call, so the output narrates the flow:
 *
 *   server: socket() = 3                 client: socket() = 3
 *   server: bind(port 7)                 client: connect(port 7)
 *   server: listen()                     client: local port 32768
 *   server: accept() -> client port 32768
 *   server: read 5 bytes: hello          client: sent hello, got HELLO
 *   server: wrote 5 bytes: HELLO
 *   server: read() = 0 (peer closed)     client: close()
 *   server: close()
 *
 * With TOY_ECHO_SHOW_PROC=1 in the environment the client prints
 * /proc/net/toy right after connect(), while the connection is open.
 *
 * It is the program from any sockets tutorial; only the address differs:
 * struct sockaddr_toy { AF_TOY, 0, port } instead of struct sockaddr_in.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "toy_util.h"

static void die(const char *what)
{
	fprintf(stderr, "toy_echo: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: toy_echo server [--once] PORT\n"
		"       toy_echo client PORT MSG...\n");
	exit(status);
}

static unsigned int parse_port(const char *s)
{
	char *end;
	unsigned long port;

	errno = 0;
	port = strtoul(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || port > 0xffffffffUL) {
		fprintf(stderr, "toy_echo: bad port '%s'\n", s);
		exit(2);
	}
	return (unsigned int)port;
}

/* Write all of buf (a stream socket may take it in pieces). */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

static void show_proc_net_toy(void)
{
	char line[256];
	FILE *f = fopen(AF_TOY_PROC, "re");

	if (!f) {
		perror("toy_echo: /proc/net/toy");
		return;
	}
	printf("client: /proc/net/toy while connected:\n");
	while (fgets(line, sizeof(line), f))
		printf("  %s", line);
	fclose(f);
}

/* ---- server --------------------------------------------------------- */

static void serve_client(int conn)
{
	char buf[4096];
	ssize_t n, i;

	for (;;) {
		n = read(conn, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			printf("server: read() failed: %s\n", strerror(errno));
			break;
		}
		if (n == 0) {
			printf("server: read() = 0 (peer closed)\n");
			break;
		}
		printf("server: read %zd bytes: %.*s\n", n, (int)n, buf);
		for (i = 0; i < n; i++)
			buf[i] = toupper((unsigned char)buf[i]);
		if (write_all(conn, buf, n) < 0) {
			printf("server: write() failed: %s\n", strerror(errno));
			break;
		}
		printf("server: wrote %zd bytes: %.*s\n", n, (int)n, buf);
		fflush(stdout);
	}
	close(conn);
	printf("server: close()\n");
	fflush(stdout);
}

/* A STREAM socket, narrated as who's ("server", "client"); dies on failure. */
static int echo_socket(const char *who)
{
	int fd = socket(AF_TOY, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	printf("%s: socket() = %d\n", who, fd);
	return fd;
}

static int server(unsigned int port, int once)
{
	struct sockaddr_toy addr = toy_addr(port);
	int lfd;

	lfd = echo_socket("server");

	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die("bind");
	printf("server: bind(port %u)\n", port);

	if (listen(lfd, 8) < 0)
		die("listen");
	printf("server: listen()\n");
	fflush(stdout);

	for (;;) {
		struct sockaddr_toy peer;
		socklen_t len = sizeof(peer);
		int conn;

		conn = accept(lfd, (struct sockaddr *)&peer, &len);
		if (conn < 0) {
			if (errno == EINTR)
				continue;
			die("accept");
		}
		printf("server: accept() -> client port %u\n",
		       (unsigned int)peer.stoy_port);
		fflush(stdout);

		serve_client(conn);
		if (once)
			break;
	}
	close(lfd);
	return 0;
}

/* ---- client --------------------------------------------------------- */

static int client(unsigned int port, int nmsg, char **msgs)
{
	struct sockaddr_toy addr = toy_addr(port), local;
	socklen_t len = sizeof(local);
	const char *show = getenv("TOY_ECHO_SHOW_PROC");
	int fd, i;

	fd = echo_socket("client");

	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die("connect");
	printf("client: connect(port %u)\n", port);
	if (getsockname(fd, (struct sockaddr *)&local, &len) == 0)
		printf("client: local port %u\n", (unsigned int)local.stoy_port);
	fflush(stdout);

	if (show && strcmp(show, "1") == 0)
		show_proc_net_toy();

	for (i = 0; i < nmsg; i++) {
		size_t want = strlen(msgs[i]), got = 0;
		char reply[4096];

		if (want > sizeof(reply))
			want = sizeof(reply);
		if (write_all(fd, msgs[i], want) < 0)
			die("write");
		/* the reply is as long as the request */
		while (got < want) {
			ssize_t n = read(fd, reply + got, want - got);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				die("read");
			if (n == 0) {
				printf("client: server closed early\n");
				close(fd);
				return 1;
			}
			got += n;
		}
		printf("client: sent %.*s, got %.*s\n", (int)want, msgs[i],
		       (int)got, reply);
		fflush(stdout);
	}

	close(fd);
	printf("client: close()\n");
	return 0;
}

static const struct option long_opts[] = {
	{ "once", no_argument, NULL, 'o' },	/* server only */
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/*
 * The options of subcommand argv[0] (getopt_long sees it as the program
 * name): a server takes them anywhere (`server 7 --once`), a client only
 * before PORT, as a MSG may start with '-'.  Returns the index of the
 * first operand.
 */
static int parse_opts(int argc, char **argv, bool server, int *once)
{
	int c;

	while ((c = getopt_long(argc, argv, server ? "h" : "+h", long_opts,
				NULL)) != -1) {
		if (c == 'h')
			usage(0);
		if (c != 'o' || !server)
			usage(2);
		*once = 1;
	}
	return optind;
}

int main(int argc, char **argv)
{
	bool server_cmd;
	int once = 0, first;

	if (argc < 2)
		usage(2);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		usage(0);
	server_cmd = !strcmp(argv[1], "server");
	if (!server_cmd && strcmp(argv[1], "client"))
		usage(2);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* a peer gone before our write: an error to report, not a death */
	signal(SIGPIPE, SIG_IGN);
	first = parse_opts(argc - 1, argv + 1, server_cmd, &once);
	argc -= 1 + first;	/* the operands: PORT [MSG...] */
	argv += 1 + first;
	if (server_cmd) {
		if (argc != 1)
			usage(2);
		return server(parse_port(argv[0]), once);
	}
	if (argc < 2)
		usage(2);
	return client(parse_port(argv[0]), argc - 1, argv + 1);
}
