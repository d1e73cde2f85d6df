/* tcpinfo.h -- the kernel's own view of a TCP socket (getsockopt TCP_INFO). */
#ifndef TCPINFO_H
#define TCPINFO_H

#include <stddef.h>

#include <linux/tcp.h>

/* The kernel's state numbers (include/net/tcp_states.h), as tcpi_state reports them. */
enum tcpinfo_state {
	TCPI_ESTABLISHED = 1, TCPI_SYN_SENT, TCPI_SYN_RECV, TCPI_FIN_WAIT1, TCPI_FIN_WAIT2,
	TCPI_TIME_WAIT, TCPI_CLOSE, TCPI_CLOSE_WAIT, TCPI_LAST_ACK, TCPI_LISTEN, TCPI_CLOSING
};

/* The options of a SYN (or SYN+ACK), or those our own SYN offered. */
struct tcpinfo_syn {
	int		 mss;		/* the MSS option, -1: none */
	int		 wscale;	/* the window scale shift, -1: none, -2: sent, value unknown */
	int		 sack_perm;	/* SACK permitted: 1 yes, 0 no, -1 unknown */
	int		 timestamps;	/* 1 yes, 0 no, -1 unknown */
	int		 nother;	/* other option kinds (TFO 34, MD5 19, MPTCP 30 ...) */
	unsigned char	 other[4];	/* the first few of them */
};

/* tcpinfo.c */
int		 tcpinfo_get(int fd, struct tcp_info *ti);
int		 tcpinfo_state(int fd);
const char	*tcpinfo_state_name(int state);
const char	*tcpinfo_fd_state_name(int fd);
/* Listener: keep each incoming SYN for tcpinfo_saved_syn (TCP_SAVE_SYN, no privileges). */
int		 tcpinfo_save_syn(int listen_fd);
/* Accepted socket: the options of the client's SYN as the kernel saved it (TCP_SAVED_SYN;
 * it can be read once). -1 if none was saved. */
int		 tcpinfo_saved_syn(int fd, struct tcpinfo_syn *);
/* Pure: parse a saved SYN (IPv4 or IPv6 header, then the TCP header). -1 if malformed. */
int		 tcpinfo_parse_syn(const unsigned char *p, size_t len, struct tcpinfo_syn *);
/* Connecting side: the options our own SYN offered, as our kernel chose them (its settings,
 * confirmed by what TCP_INFO shows agreed). */
void		 tcpinfo_own_syn(const struct tcp_info *, struct tcpinfo_syn *);
/* "MSS 65495, SACK permitted, timestamps, window scale 10" into buf. */
const char	*tcpinfo_syn_str(const struct tcpinfo_syn *, char *buf, size_t len);

#endif
