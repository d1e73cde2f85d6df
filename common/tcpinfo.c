/* tcpinfo.c -- read the kernel's TCP state for a socket, and the options of the SYN that opened it
 * (the client's as the kernel saved it, or our own), so the log shows facts, not guesses. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "evlog.h"
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

/* ---- the SYN's options ---- */

int
tcpinfo_save_syn(int listen_fd)
{
	int on = 1;

	return setsockopt(listen_fd, IPPROTO_TCP, TCP_SAVE_SYN, &on, sizeof(on));
}

int
tcpinfo_parse_syn(const unsigned char *p, size_t len, struct tcpinfo_syn *s)
{
	size_t ip, doff, i, olen;
	unsigned kind;

	memset(s, 0, sizeof(*s));
	s->mss = -1;
	s->wscale = -1;
	if (len < 1)
		return -1;
	if (p[0] >> 4 == 4) {
		ip = (size_t)(p[0] & 0x0f) * 4;
		if (ip < 20 || len < ip || p[9] != IPPROTO_TCP)
			return -1;
	} else if (p[0] >> 4 == 6) {
		ip = 40;		/* extension headers before TCP: not a SYN we can read */
		if (len < ip || p[6] != IPPROTO_TCP)
			return -1;
	} else
		return -1;
	if (len < ip + 20)
		return -1;
	doff = (size_t)(p[ip + 12] >> 4) * 4;
	if (doff < 20 || len < ip + doff || !(p[ip + 13] & 0x02))	/* SYN flag */
		return -1;
	for (i = ip + 20; i < ip + doff; i += olen) {
		kind = p[i];
		if (kind == 0)			/* end of options */
			break;
		if (kind == 1) {		/* NOP */
			olen = 1;
			continue;
		}
		if (i + 1 >= ip + doff || (olen = p[i + 1]) < 2 || i + olen > ip + doff)
			return -1;
		if (kind == 2 && olen == 4)
			s->mss = p[i + 2] << 8 | p[i + 3];
		else if (kind == 3 && olen == 3)
			s->wscale = p[i + 2];
		else if (kind == 4 && olen == 2)
			s->sack_perm = 1;
		else if (kind == 8 && olen == 10)
			s->timestamps = 1;
		else if (s->nother < (int)sizeof(s->other))
			s->other[s->nother++] = (unsigned char)kind;
	}
	return 0;
}

int
tcpinfo_saved_syn(int fd, struct tcpinfo_syn *s)
{
	unsigned char buf[512];
	socklen_t len = sizeof(buf);

	if (getsockopt(fd, IPPROTO_TCP, TCP_SAVED_SYN, buf, &len) == -1 || len == 0)
		return -1;
	return tcpinfo_parse_syn(buf, len, s);
}

/* A net.ipv4 setting: 1 on, 0 off, -1 unreadable. */
static int
sysctl_on(const char *name)
{
	char path[96], v[16];
	FILE *f;
	int on = -1;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/%s", name);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	if (fgets(v, sizeof(v), f) != NULL)
		on = v[0] != '0';
	fclose(f);
	return on;
}

void
tcpinfo_own_syn(const struct tcp_info *ti, struct tcpinfo_syn *s)
{
	static int sack = -2, ts = -2, ws = -2;

	if (sack == -2) {		/* read once: the kernel's settings, as tcp_syn_options() */
		sack = sysctl_on("tcp_sack");
		ts = sysctl_on("tcp_timestamps");
		ws = sysctl_on("tcp_window_scaling");
	}
	memset(s, 0, sizeof(*s));
	/* What both SYNs had (TCP_INFO) our SYN certainly offered; the rest as configured. */
	s->sack_perm = (ti->tcpi_options & TCPI_OPT_SACK) ? 1 : sack;
	s->timestamps = (ti->tcpi_options & TCPI_OPT_TIMESTAMPS) ? 1 : ts;
	if (ti->tcpi_options & TCPI_OPT_WSCALE)
		s->wscale = ti->tcpi_rcv_wscale;
	else
		s->wscale = ws == 1 ? -2 : -1;
	/* The MSS our SYN advertised: tcpi_advmss, which the kernel lowers by the 12 bytes of
	 * the timestamp option once timestamps are agreed (tcp_rcv_synsent_state_process). */
	s->mss = (int)ti->tcpi_advmss + ((ti->tcpi_options & TCPI_OPT_TIMESTAMPS) ? 12 : 0);
}

const char *
tcpinfo_syn_str(const struct tcpinfo_syn *s, char *buf, size_t len)
{
	size_t l;
	int i;

	if (len == 0)
		return buf;
	buf[0] = '\0';
#define ADD(...) do { l = strlen(buf); snprintf(buf + l, len - l, __VA_ARGS__); } while (0)
	if (s->mss >= 0)
		ADD("MSS %d", s->mss);
	else
		ADD("%s", TR("no MSS option", "无 MSS 选项"));
	if (s->sack_perm == 1)
		ADD("%s", TR(", SACK permitted", "，允许 SACK"));
	if (s->timestamps == 1)
		ADD("%s", TR(", timestamps", "，时间戳"));
	if (s->wscale >= 0)
		ADD(TR(", window scale %d", "，窗口扩大因子 %d"), s->wscale);
	else if (s->wscale == -2)
		ADD("%s", TR(", window scale", "，窗口扩大"));
	for (i = 0; i < s->nother; i++)
		ADD(TR(", option %u", "，选项 %u"), s->other[i]);
#undef ADD
	return buf;
}
