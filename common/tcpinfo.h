/* tcpinfo.h -- the kernel's own view of a TCP socket (getsockopt TCP_INFO). */
#ifndef TCPINFO_H
#define TCPINFO_H

#include <linux/tcp.h>

/* The kernel's state numbers (include/net/tcp_states.h), as tcpi_state reports them. */
enum tcpinfo_state {
	TCPI_ESTABLISHED = 1, TCPI_SYN_SENT, TCPI_SYN_RECV, TCPI_FIN_WAIT1, TCPI_FIN_WAIT2,
	TCPI_TIME_WAIT, TCPI_CLOSE, TCPI_CLOSE_WAIT, TCPI_LAST_ACK, TCPI_LISTEN, TCPI_CLOSING
};

/* tcpinfo.c */
int		 tcpinfo_get(int fd, struct tcp_info *ti);
int		 tcpinfo_state(int fd);
const char	*tcpinfo_state_name(int state);
const char	*tcpinfo_fd_state_name(int fd);

#endif
