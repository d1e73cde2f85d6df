/* tcpinfo.c -- read the kernel's TCP state for a socket, so the log shows facts, not guesses. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <string.h>

#include "tcpinfo.h"

/* The kernel's numbering (include/net/tcp_states.h): TCP_ESTABLISHED = 1 ... TCP_CLOSING = 11. */
static const char *const state_names[] = {
	"?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
	"CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV",
};

int
tcpinfo_get(int fd, struct tcp_info *ti)
{
	socklen_t len = sizeof(*ti);

	memset(ti, 0, sizeof(*ti));
	if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &len) == -1)
		return -1;
	return 0;
}

/* The state number (1..12), or -1 when the fd is not a TCP socket the kernel can describe. */
int
tcpinfo_state(int fd)
{
	struct tcp_info ti;

	if (tcpinfo_get(fd, &ti) == -1)
		return -1;
	return ti.tcpi_state;
}

const char *
tcpinfo_state_name(int state)
{
	if (state <= 0 || (size_t)state >= sizeof(state_names) / sizeof(state_names[0]))
		return NULL;
	return state_names[state];
}

const char *
tcpinfo_fd_state_name(int fd)
{
	return tcpinfo_state_name(tcpinfo_state(fd));
}
