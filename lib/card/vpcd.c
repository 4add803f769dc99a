/* The vpcd bridge: the card side of vsmartcard's virtual PC/SC reader.
 *
 * vpcd (loaded by pcscd) listens on a TCP port; the card connects to it.
 * Each message either way is a 2-byte big-endian length and a payload. A
 * 1-byte payload from vpcd is a control: 0 power off, 1 power on, 2 reset,
 * 4 "send the ATR"; anything longer is a command APDU, answered with the
 * response APDU. Only the ATR request and APDUs get an answer.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "card_internal.h"
#include "banned.h"

enum { CTRL_OFF = 0, CTRL_ON = 1, CTRL_RESET = 2, CTRL_ATR = 4 };

static void say(void (*log)(const char *), const char *what, const char *host, int port)
{
	char line[320];
	if (log == NULL)
		return;
	snprintf(line, sizeof line, "%s %s:%d", what, host, port);
	log(line);
}

/* Reads exactly n bytes, polling so that *stop is noticed. Returns 1, 0 on
 * end of stream or error, -1 when stopped. */
static int read_full(int fd, uint8_t *p, size_t n, volatile int *stop)
{
	size_t got = 0;
	while (got < n) {
		if (*stop)
			return -1;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int r = poll(&pfd, 1, 200);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return 0;
		if (r == 0)
			continue;
		ssize_t m = recv(fd, p + got, n - got, 0);
		if (m < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (m <= 0)
			return 0;
		got += (size_t)m;
		/* vpcd writes a frame's length and body separately: with
		 * delayed ACKs every APDU would wait ~40 ms for the body. The
		 * kernel clears quick-ACK mode again, so set it each time. */
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
	}
	return 1;
}

static bool send_frame(int fd, const uint8_t *p, size_t n)
{
	uint8_t hdr[2] = {(uint8_t)(n >> 8), (uint8_t)n};
	struct iovec iov[2] = {{hdr, 2}, {(void *)p, n}};
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
	size_t left = n + 2;
	while (left > 0) {
		ssize_t w = sendmsg(fd, &msg, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		left -= (size_t)w;
		/* Advance the iovecs past what was sent. */
		while (w > 0 && msg.msg_iovlen > 0) {
			if ((size_t)w >= msg.msg_iov[0].iov_len) {
				w -= (ssize_t)msg.msg_iov[0].iov_len;
				msg.msg_iov++;
				msg.msg_iovlen--;
			} else {
				msg.msg_iov[0].iov_base =
				    (uint8_t *)msg.msg_iov[0].iov_base + w;
				msg.msg_iov[0].iov_len -= (size_t)w;
				w = 0;
			}
		}
	}
	return true;
}

static int connect_to(const struct addrinfo *ai)
{
	for (; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
				ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			int one = 1;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
			return fd;
		}
		close(fd);
	}
	return -1;
}

/* Serves one connection until it drops (0) or *stop (-1). */
static int serve_conn(struct jpki_card *c, int fd, volatile int *stop, uint8_t *cmd,
		      uint8_t *resp)
{
	for (;;) {
		uint8_t hdr[2];
		int r = read_full(fd, hdr, 2, stop);
		if (r <= 0)
			return r;
		size_t n = (size_t)hdr[0] << 8 | hdr[1];
		if ((r = read_full(fd, cmd, n, stop)) <= 0)
			return r;
		if (n == 1) {
			switch (cmd[0]) {
			case CTRL_OFF:
			case CTRL_ON:
			case CTRL_RESET:
				jpki_card_reset(c);
				break;
			case CTRL_ATR:
				if (!send_frame(fd, jpki_card_atr, JPKI_CARD_ATR_LEN))
					return 0;
				break;
			}
			continue;
		}
		size_t m = jpki_card_apdu(c, cmd, n, resp, JPKI_CARD_RESP_MAX);
		OPENSSL_cleanse(cmd, n); /* a VERIFY carries a PIN */
		bool ok = send_frame(fd, resp, m);
		OPENSSL_cleanse(resp, m);
		if (!ok)
			return 0;
	}
}

jpki_err jpki_vpcd_serve(struct jpki_card *c, const char *host, int port,
			 volatile int *stop, void (*log)(const char *line),
			 struct jpki_errbuf *eb)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *ai = NULL;
	char service[8];
	snprintf(service, sizeof service, "%d", port);
	if (port <= 0 || port > 65535 || getaddrinfo(host, service, &hints, &ai) != 0)
		return jpki_errf(eb, JPKI_ERR_INVALID, "%s:%d: not an address", host,
				 port);
	/* Frames carry at most 65535 bytes. */
	uint8_t *cmd = malloc(65536), *resp = malloc(JPKI_CARD_RESP_MAX);
	if (cmd == NULL || resp == NULL) {
		free(cmd);
		free(resp);
		freeaddrinfo(ai);
		return JPKI_ERR_NOMEM;
	}
	bool waiting_said = false;
	unsigned delay_ms = 100;
	while (!*stop) {
		int fd = connect_to(ai);
		if (fd < 0) {
			if (!waiting_said)
				say(log, "waiting for vpcd at", host, port);
			waiting_said = true;
			for (unsigned t = 0; t < delay_ms && !*stop; t += 50)
				usleep(50 * 1000);
			delay_ms = delay_ms < 1000 ? delay_ms * 2 : 1000;
			continue;
		}
		say(log, "connected to vpcd at", host, port);
		waiting_said = false;
		delay_ms = 100;
		jpki_card_reset(c);
		int r = serve_conn(c, fd, stop, cmd, resp);
		close(fd);
		jpki_card_reset(c);
		if (r == 0)
			say(log, "connection closed; reconnecting to vpcd at", host,
			    port);
	}
	free(cmd);
	free(resp);
	freeaddrinfo(ai);
	return JPKI_OK;
}
