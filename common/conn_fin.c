/* conn_fin.c -- who sent the first FIN, from every observation this side has (its own TCP_INFO
 * reads, the tcp_state of its events, the close watch's samples, sock_diag just after close(),
 * the capture when on), and the words of each close step chosen from it: "first" only where
 * this side knows it. conn_close.c makes the close; this file tells it. */
#include <sys/socket.h>
#include <stdio.h>

#include "conn_int.h"
#include "evlog.h"
#include "seglog.h"
#include "sockdiag.h"
#include "tcpinfo.h"
#include "tcpwatch.h"
#include "tls.h"

static const char *const first_fin_names[] = { "none", "local", "peer", "both" };

const char *
fin_first_name(const struct conn *c)
{
	return first_fin_names[c->first_fin];
}

/* Does this side hold TIME_WAIT now? sock_diag finds the kernel's TIME_WAIT record by the
 * 4-tuple (the fd itself reads CLOSE). 1: yes; 0: no (gone, or LAST_ACK/CLOSE_WAIT: those end
 * CLOSED); -1: not yet known (FIN_WAIT1/FIN_WAIT2/CLOSING wait for the peer) or no answer. */
int
fin_time_wait(const struct conn *c)
{
	struct sockdiag_info di;
	int r;

	if (c->local.sa.sa_family == 0)
		return -1;
	r = sockdiag_lookup(&c->local.sa, &c->remote.sa, &di);
	if (r == 0)
		return 0;
	if (r == -1)
		return -1;
	if (di.state == TCPI_TIME_WAIT)
		return 1;
	if (di.state == TCPI_LAST_ACK || di.state == TCPI_CLOSE_WAIT || di.state == TCPI_CLOSE)
		return 0;
	return -1;
}

/* A state we read on the fd ourselves. */
void
fin_observe(struct conn *c, int st)
{
	if (st > 0 && st < 16)
		c->seen |= FIN_ST(st);
}

/* Every kernel state this program saw on the connection: its own reads, the tcp_state of
 * every event it logged (evlog keeps them by fd), the close watch's samples. */
unsigned
fin_seen(struct conn *c)
{
	if (c->fd >= 0)
		c->seen |= evlog_states_seen(c->fd, c->id);
	c->seen |= tcpwatch_seen(c->id);
	return c->seen;
}

/* Our FIN left before the peer's arrived (first_fin local), and this side KNOWS it was not a
 * crossing: it saw our FIN ACKed before the peer's FIN came (FIN_WAIT2: in a crossing the
 * peer's FIN, sent before ours arrived there, comes before its ACK of ours), or the capture
 * shows the peer's FIN ACKing ours. Without either, the peer may have sent its FIN before ours
 * arrived (a simultaneous close whose CLOSING, microseconds long on loopback, nobody sampled):
 * the sentences then say only what was seen. */
int
fin_local_known(struct conn *c)
{
	return c->first_fin == FIRST_FIN_LOCAL && ((fin_seen(c) & FIN_ST(TCPI_FIN_WAIT2)) ||
	    seglog_fin_order(c->id) == SEGLOG_FINS_LOCAL);
}

/* Use every observation: CLOSING seen anywhere (the fd, an event's tcp_state, the watch) or
 * the capture's FINs crossing is a simultaneous close; the capture also tells who was first
 * when nothing else did. */
void
fin_refine(struct conn *c)
{
	int cap = seglog_fin_order(c->id);

	if (fin_seen(c) & FIN_ST(TCPI_CLOSING))
		c->saw_closing = 1;
	if ((c->saw_closing || cap == SEGLOG_FINS_CROSSED) &&
	    (c->first_fin == FIRST_FIN_LOCAL || c->first_fin == FIRST_FIN_UNKNOWN))
		c->first_fin = FIRST_FIN_BOTH;
	else if (c->first_fin == FIRST_FIN_UNKNOWN && cap == SEGLOG_FINS_PEER)
		c->first_fin = FIRST_FIN_PEER;
	else if (c->first_fin == FIRST_FIN_UNKNOWN && cap == SEGLOG_FINS_LOCAL)
		c->first_fin = FIRST_FIN_LOCAL;
}

/* The peer's FIN: why the kernel says it is in, and the textbook step it is. */
void
fin_log_received(struct conn *c, int st, enum fin_how how)
{
	struct evrec r;
	int tls_open = c->use_tls && c->tls->hs_done && c->ssl != NULL;
	/* The close_notify itself: a fatal alert also sets OpenSSL's SSL_RECEIVED_SHUTDOWN. */
	int notify = tls_open && tls_close_notify_received(c);
	int ours_out = c->fin_sent || c->fin_early || how == FIN_BEFORE_CLOSE;
	const char *sn;
	int tw;

	if (!evrec_begin(&r, EVT_FIN_RECEIVED, c->id, how == FIN_BEFORE_CLOSE ? -1 : c->fd))
		return;		/* with -q: nothing named, nothing formatted */
	sn = tcpinfo_state_name(st) ? tcpinfo_state_name(st) : "?";
	/* Unread bytes can still hold the close_notify: say only what was read. */
	if (tls_open && ((how != FIN_UNREAD && how != FIN_THEN_RST && how != FIN_CAPTURED) ||
	    notify))
		evrec_bool(&r, "close_notify", notify);
	evrec_int(&r, "wave", c->first_fin == FIRST_FIN_LOCAL ? 3 : 1);
	if (c->first_fin == FIRST_FIN_BOTH)
		evrec_bool(&r, "simultaneous", 1);
	else if (c->first_fin == FIRST_FIN_LOCAL)
		/* wave 3: the textbook's 3rd wave only if this side knows it came after ours
		 * arrived; else a crossing nobody sampled looks the same from here */
		evrec_bool(&r, "after_ours_known", fin_local_known(c));
	if (how == FIN_UNREAD)
		evrec_bool(&r, "unread", 1);
	if (how == FIN_UNREAD)
		evrec_detail(&r, TR("the peer's FIN is in (the kernel shows %s), behind bytes not yet "
		    "read",
		    "对方的 FIN 已经到达（内核显示 %s），排在还没读的字节后面"), sn);
	else if (how == FIN_CAPTURED)
		evrec_detail(&r, TR("the peer's FIN came in (the capture shows it; this program never "
		    "read it)%s",
		    "对方的 FIN 到了（抓包显示了它；本程序从未读到它）"
		    "%s"), c->reset ? TR(", then a RST", "，随后来了 RST") : "");
	else if (how == FIN_THEN_RST)
		/* the evidence seen: a state only the peer's FIN leads to, or the RST's EPIPE */
		evrec_detail(&r, TR("the peer's FIN was in: %s before a RST came (the fd now reads %s)",
		    "对方的 FIN 已经到达：RST 到来之前%s（fd 现在读出 %s）"),
		    (fin_seen(c) & FIN_ST(TCPI_CLOSE_WAIT)) ? TR("the kernel showed CLOSE_WAIT",
		        "内核显示过 CLOSE_WAIT") :
		    (fin_seen(c) & FIN_ST(TCPI_LAST_ACK)) ? TR("the kernel showed LAST_ACK",
		        "内核显示过 LAST_ACK") :
		    TR("the RST's error was EPIPE, the kernel's error for a RST in CLOSE_WAIT",
		        "RST 的错误是 EPIPE，这是内核在 CLOSE_WAIT 中收到 RST 时给的错误"), sn);
	else if (how == FIN_BEFORE_CLOSE)
		evrec_detail(&r, TR("the peer's FIN came in just before our close(): the fd read "
		    "ESTABLISHED just before the call, and sock_diag finds %s just after it",
		    "对方的 FIN 恰好在我方 close() 之前到达：调用前 fd 读出 ESTABLISHED，调用后 "
		    "sock_diag 查到%s"),
		    st > 0 ? sn : TR("the connection gone",
		        "连接已经不存在"));
	else if (!notify && c->use_tls && tls_alert_received(c) >= 0)
		evrec_detail(&r, TR("read() returned 0: the peer's FIN arrived (TCP), after its fatal "
		    "TLS alert %s (an alert ends TLS without a close_notify)",
		    "read() 返回 0：对方的 FIN 到了（TCP），在它的致命 TLS 警报 %s 之后（警报结束 "
		    "TLS，不发 close_notify）"),
		    tls_alert_name(tls_alert_received(c)));
	else
		evrec_detail(&r, TR("read() returned 0: the peer's FIN arrived%s",
		    "read() 返回 0：对方的 FIN 到了%s"), !tls_open ? "" :
		    notify ? TR(" (TCP), after its TLS close_notify",
		        "（TCP），在它的 TLS close_notify 之后") : TR(" without a TLS close_notify "
		    "before it (logged, not an error: the HTTP framing says whether the data was "
		    "complete)",
		    "，之前没有 TLS close_notify（只是记录，不算错误：数据是否完整由 HTTP 的报文边"
		    "界说明）"));
	if (c->first_fin == FIRST_FIN_PEER && (how == FIN_THEN_RST ||
	    (how == FIN_CAPTURED && c->reset)))
		evrec_gloss(&r, TR("1st wave: the peer sent the first FIN, then reset the connection "
		    "before we sent ours",
		    "第一次挥手：对方先发了 FIN，然后在我方发出 FIN 之前重置了连接"));
	else if (c->first_fin == FIRST_FIN_PEER && ours_out)
		evrec_gloss(&r, TR("1st wave: the peer sent the first FIN; it came in just before our "
		    "own %s (the kernel showed ESTABLISHED just before the call), so ours is the "
		    "3rd wave and this side goes through LAST_ACK, not TIME_WAIT",
		    "第一次挥手：对方先发了 FIN；它恰好在我方 %s 之前到达（调用前内核显示 "
		    "ESTABLISHED），所以我方的 FIN 是第三次挥手，这一方经过 LAST_ACK，而不是 "
		    "TIME_WAIT"),
		    how == FIN_BEFORE_CLOSE ? "close()" : "shutdown()");
	else if (c->first_fin == FIRST_FIN_PEER)
		evrec_gloss(&r, TR("1st wave: the peer sent the first FIN; our kernel ACKs it (2nd "
		    "wave, at once or riding on our own FIN); we are in CLOSE_WAIT until we send "
		    "ours",
		    "第一次挥手：对方先发了 FIN；我方内核确认它（第二次挥手，立即确认或搭在我方自"
		    "己的 FIN 上）；在我方发出 FIN 之前，我们处于 CLOSE_WAIT"));
	else if (c->first_fin == FIRST_FIN_BOTH)
		evrec_gloss(&r, TR("the peer's FIN crossed ours (%s): a simultaneous close; each "
		    "kernel ACKs the other's FIN, and both sides go to TIME_WAIT",
		    "对方的 FIN 与我方的 FIN 交错而过（%s）：同时关闭；双方内核各自确认对方的 "
		    "FIN，两边都进入 TIME_WAIT"), c->saw_closing ?
		    TR("the kernel showed CLOSING", "内核显示过 "
		    "CLOSING") : TR("the capture shows it not ACKing ours",
		        "抓包显示它没有确认我方的 FIN"));
	else if (fin_local_known(c))
		evrec_gloss(&r, TR("3rd wave: the peer's FIN came after ours (%s); our kernel ACKed it "
		    "at once (4th wave)%s",
		    "第三次挥手：对方的 FIN 在我方之后到达（%s）；我方内核立即确认了它（第四次挥手"
		    "）%s"), (fin_seen(c) & FIN_ST(TCPI_FIN_WAIT2)) ? TR("ours was "
		    "ACKed first: FIN_WAIT2",
		    "我方的 FIN 先被确认：FIN_WAIT2") : TR("the capture shows it ACKing ours",
		        "抓包显示它确认了我方的 FIN"), (tw =
		    fin_time_wait(c)) == 1 ? TR(": our FIN was the first, so this side now holds "
		    "TIME_WAIT (sock_diag shows it; the fd reads CLOSE)",
		    "：我方的 FIN 在先，所以这一方现在处于 TIME_WAIT（sock_diag 能看到；fd 读出 "
		    "CLOSE）") : tw == 0 ? TR("; sock_diag "
		    "shows no TIME_WAIT for it", "；sock_diag 没有显示它的 TIME_WAIT") : "");
	else
		evrec_gloss(&r, TR("the peer's FIN arrived after ours had left; our kernel ACKed it at "
		    "once%s. Whether the peer sent it after ours reached it (the 3rd wave) or "
		    "before (the two FINs under way at once), this side cannot tell: it saw neither "
		    "ours ACKed first (FIN_WAIT2) nor CLOSING",
		    "对方的 FIN 在我方 FIN 发出之后到达；我方内核立即确认了它%s。对方是在我方 FIN "
		    "到达之后发出的（第三次挥手），还是之前发出的（两个 FIN 同时在路上），这一方无"
		    "法分辨：它既没看到我方 FIN 先被确认（FIN_WAIT2），也没看到 "
		    "CLOSING"), (tw = fin_time_wait(c)) == 1 ?
		    TR("; this side now holds TIME_WAIT (sock_diag shows it; the fd reads CLOSE)",
		        "；这一方现在处于 TIME_WAIT（sock_diag 能看到；fd 读出 CLOSE）") :
		    tw == 0 ? TR("; sock_diag shows no TIME_WAIT for it",
		    "；sock_diag 没有显示它的 TIME_WAIT") : "");
	evrec_emit(&r);
}

/* The TCP step our FIN is, from what the kernel showed just after it (st) and everything
 * else this side saw; "first" only where it knows (local_known). */
void
fin_step(struct conn *c, int st, char *buf, size_t len)
{
	const char *sn = tcpinfo_state_name(st) ? tcpinfo_state_name(st) : "?";
	struct tcp_info ti;
	unsigned notsent = 0;

	if (st == TCPI_FIN_WAIT1 && c->fd >= 0 && tcpinfo_get(c->fd, &ti) == 0)
		notsent = ti.tcpi_notsent_bytes;
	if (c->reset && c->first_fin == FIRST_FIN_PEER)
		snprintf(buf, len, TR("3rd wave: our FIN, after the peer's; then the peer reset the "
		    "connection (RST; the fd shows %s)",
		    "第三次挥手：我方的 FIN，在对方的之后；随后对方重置了连接（RST；fd 显示 "
		    "%s）"), sn);
	else if (c->reset)
		snprintf(buf, len, TR("our FIN went out before anything showed the peer's FIN; then "
		    "the peer reset the connection (RST; the fd shows %s)",
		    "我方的 FIN 在看到对方 FIN 之前就发出了；随后对方重置了连接（RST；fd 显示 "
		    "%s）"), sn);
	else if (c->first_fin == FIRST_FIN_BOTH)
		snprintf(buf, len, TR("our FIN crossed the peer's (%s): a simultaneous close; each "
		    "side ACKs the other's FIN, and both go to TIME_WAIT",
		    "我方的 FIN 与对方的交错而过（%s）：同时关闭；双方各自确认对方的 FIN，都进入 "
		    "TIME_WAIT"), c->saw_closing ?
		    TR("the kernel shows CLOSING",
		        "内核显示 CLOSING") : TR("the capture shows the two FINs crossing",
		            "抓包显示两个 FIN 交错而过"));
	else if (c->first_fin == FIRST_FIN_PEER && st == TCPI_LAST_ACK)
		snprintf(buf, len, TR("3rd wave: our FIN, after the peer's; LAST_ACK until the peer "
		    "ACKs it",
		    "第三次挥手：我方的 FIN，在对方的之后；在对方确认之前处于 LAST_ACK"));
	else if (c->first_fin == FIRST_FIN_PEER)
		snprintf(buf, len, TR("3rd wave: our FIN, after the peer's; its ACK (4th wave) came "
		    "back before we looked (the fd shows %s), so LAST_ACK is already over",
		    "第三次挥手：我方的 FIN，在对方的之后；对它的确认（第四次挥手）在我们查看之前"
		    "就回来了（fd 显示 %s），所以 LAST_ACK 已经结束"), sn);
	else if (st == TCPI_FIN_WAIT1 && notsent > 0)
		snprintf(buf, len, TR("our FIN is queued behind %u bytes the kernel has not sent yet "
		    "(FIN_WAIT1: shutdown() is done, the FIN leaves after them; the peer's FIN has "
		    "not arrived); the peer's ACK of it moves us to FIN_WAIT2",
		    "我方的 FIN 排在内核还没发出的 %u 字节后面（FIN_WAIT1：shutdown() 已经完成，"
		    "FIN 在这些字节之后发出；对方的 FIN 还没到）；对方确认它之后我们进入 "
		    "FIN_WAIT2"), notsent);
	else if (st == TCPI_FIN_WAIT1)
		snprintf(buf, len, TR("1st wave: our FIN is out, before the peer's arrived "
		    "(FIN_WAIT1); the peer's ACK of it moves us to FIN_WAIT2 (2nd wave)",
		    "第一次挥手：我方的 FIN 已发出，对方的还没到（FIN_WAIT1）；对方确认它之后我们"
		    "进入 FIN_WAIT2（第二次挥手）"));
	else if (st == TCPI_FIN_WAIT2)
		snprintf(buf, len, TR("1st wave: our FIN went first, already ACKed by the peer (2nd "
		    "wave): FIN_WAIT2",
		    "第一次挥手：我方的 FIN 在先，对方已经确认（第二次挥手）：FIN_WAIT2"));
	else if (fin_local_known(c))
		snprintf(buf, len, TR("1st wave: our FIN went first; the peer's ACK and its own FIN "
		    "came back before we looked (the fd shows %s)",
		    "第一次挥手：我方的 FIN 在先；对方的确认和它自己的 FIN 在我们查看之前就回来了"
		    "（fd 显示 %s）"), sn);
	else
		snprintf(buf, len, TR("1st wave: our FIN left before the peer's arrived; the peer's "
		    "FIN was in before we looked (the fd shows %s): sent after ours reached it, or "
		    "crossing it, this side cannot tell",
		    "第一次挥手：我方的 FIN 在对方的到达之前发出；我们查看之前对方的 FIN 已经到了"
		    "（fd 显示 %s）：它是在我方 FIN 到达之后发出的，还是与之交错，这一方无法分"
		    "辨"), sn);
}

/* The closed event's words, chosen from what the kernel showed: st, the fd's state just before
 * close(); after, the connection's state sock_diag finds just after it (0: gone, -1: not
 * looked up); tw, whether this side holds TIME_WAIT (-1: not known yet); by_close, close()
 * itself sent our FIN (no shutdown() before it). "First" only where this side knows it. */
void
fin_closed_gloss(struct evrec *r, struct conn *c, int st, int after, int tw, int by_close)
{
	const char *sn = tcpinfo_state_name(st) ? tcpinfo_state_name(st) : "?";
	const char *an = tcpinfo_state_name(after);
	const char *ours = fin_local_known(c) ? TR("our FIN was the first",
	    "我方的 FIN 在先") :
	    TR("our FIN left before the peer's arrived", "我方的 FIN 在对方的到达之前发出");

	if (c->t_tcp == 0)
		evrec_gloss(r, TR("the connection was never established: nothing to close but the "
		    "socket",
		    "连接从未建立：除了套接字没有什么可关闭的"));
	else if (c->rst_sent)
		evrec_gloss(r, TR("SO_LINGER {1, 0}: close() sends RST instead of FIN; no four-way "
		    "close and no TIME_WAIT",
		    "SO_LINGER {1, 0}：close() 发出 RST 而不是 FIN；没有四次挥手，也没有 "
		    "TIME_WAIT"));
	else if (c->reset)
		evrec_gloss(r, TR("reset: the connection ended without the four-way close; no "
		    "TIME_WAIT",
		    "重置：连接没有经过四次挥手就结束了；没有 TIME_WAIT"));
	else if (c->first_fin == FIRST_FIN_BOTH)
		evrec_gloss(r, TR("a simultaneous close: the two FINs crossed (%s); %s",
		    "同时关闭：两个 FIN 交错而过（%s）；%s"),
		    c->saw_closing ? TR("the kernel showed CLOSING", "内核显示过 "
		    "CLOSING") : TR("the capture shows it",
		        "抓包显示了这一点"),
		    tw == 1 ? TR("this side holds TIME_WAIT for 2MSL (60 s on Linux; sock_diag shows it "
		    "just after close())",
		    "这一方在 TIME_WAIT 中停留 2MSL（Linux 上 60 秒；close() 之后 sock_diag 立即能"
		    "看到）") : TR("TIME_WAIT follows once the peer ACKs our FIN (the watch "
		    "follows it)",
		    "对方确认我方的 FIN 后进入 TIME_WAIT（由观察跟踪）"));
	else if (c->first_fin == FIRST_FIN_LOCAL && by_close && tw == 1)
		evrec_gloss(r, TR("close() sent our FIN before the peer's arrived (the fd read %s just "
		    "before the call), and the peer's FIN was in just after (sent after ours "
		    "reached it, or crossing it: this side cannot tell): this side holds "
		    "TIME_WAIT for 2MSL (60 s on Linux; sock_diag shows it)",
		    "close() 在对方的 FIN 到达之前发出了我方的 FIN（调用前 fd 读出 %s），调用之后"
		    "对方的 FIN 就到了（它是在我方 FIN 到达之后发出的，还是与之交错，这一方无法分"
		    "辨）：这一方在 TIME_WAIT 中停留 2MSL（Linux 上 60 秒；sock_diag 能看到"
		    "）"), sn);
	else if (c->first_fin == FIRST_FIN_LOCAL && by_close)
		evrec_gloss(r, TR("close() sends our FIN now, before the peer's arrived%s%s%s: the "
		    "kernel finishes the close on its own; TIME_WAIT follows if the peer's FIN "
		    "comes (the watch follows it)",
		    "close() 现在发出我方的 FIN，对方的还没到%s%s%s：内核自己完成关闭；如果对方的 "
		    "FIN 到来，就进入 TIME_WAIT（由观察跟踪"
		    "）"), an ? TR(" (sock_diag just after the call: ",
		        "（调用之后 sock_diag 看到：") : "",
		    an ? an : "", an ? TR(")", "）") : "");
	else if (c->first_fin == FIRST_FIN_LOCAL && tw == 1)
		evrec_gloss(r, TR("%s, so this side holds TIME_WAIT for 2MSL (60 s on Linux; sock_diag "
		    "shows it, the fd itself reads CLOSE)",
		    "%s，所以这一方在 TIME_WAIT 中停留 2MSL（Linux 上 60 秒；sock_diag 能看到，fd "
		    "本身读出 CLOSE）"), ours);
	else if (c->first_fin == FIRST_FIN_LOCAL && tw == 0)
		evrec_gloss(r, TR("%s, but the kernel shows no TIME_WAIT for this connection",
		    "%s，但内核没有显示这个连接的 TIME_WAIT"), ours);
	else if (c->first_fin == FIRST_FIN_LOCAL)
		evrec_gloss(r, TR("%s; the peer's has not come (%s): after close() the kernel finishes "
		    "the close on its own, and TIME_WAIT follows if the peer's FIN comes (the "
		    "watch follows it)",
		    "%s；对方的还没来（%s）：close() 之后内核自己完成关闭，如果对方的 FIN 到来就进"
		    "入 TIME_WAIT（由观察跟踪）"), ours, sn);
	else if (c->first_fin == FIRST_FIN_PEER && (st == TCPI_LAST_ACK || after == TCPI_LAST_ACK))
		evrec_gloss(r, TR("the peer's FIN was the first; ours is not ACKed yet, so the kernel "
		    "keeps LAST_ACK after close() until the 4th wave arrives: no TIME_WAIT on this "
		    "side, the peer holds it",
		    "对方的 FIN 在先；我方的还没被确认，所以 close() 之后内核保持 LAST_ACK，直到第"
		    "四次挥手到达：这一方没有 TIME_WAIT，由对方承担"));
	else if (c->first_fin == FIRST_FIN_PEER && by_close && after == 0)
		evrec_gloss(r, TR("the peer's FIN was the first; close() sends ours now, and its ACK "
		    "came back at once (sock_diag finds the connection gone just after the call): "
		    "no TIME_WAIT on this side, the peer holds it",
		    "对方的 FIN 在先；close() 现在发出我方的 FIN，对它的确认立即就回来了（调用之后"
		    " sock_diag 查不到这个连接）：这一方没有 TIME_WAIT，由对方承担"));
	else if (c->first_fin == FIRST_FIN_PEER && by_close)
		evrec_gloss(r, TR("the peer's FIN was the first; close() sends ours now (LAST_ACK until "
		    "its ACK): no TIME_WAIT on this side, the peer holds it",
		    "对方的 FIN 在先；close() 现在发出我方的 FIN（在对方确认之前处于 LAST_ACK）："
		    "这一方没有 TIME_WAIT，由对方承担"));
	else if (c->first_fin == FIRST_FIN_PEER)
		evrec_gloss(r, TR("the peer's FIN was the first: after its ACK of ours (4th wave) this "
		    "side is CLOSED; no TIME_WAIT here, the peer holds it",
		    "对方的 FIN 在先：对方确认我方的 FIN（第四次挥手）之后，这一方就是 CLOSED；这"
		    "里没有 TIME_WAIT，由对方承担"));
	else
		evrec_gloss(r, TR("close() without the shutdown steps: the kernel sends a FIN (or RST "
		    "if unread data was left) and finishes on its own",
		    "close() 没有经过 shutdown 这一步：内核发出 FIN（如果还有未读数据则发 RST），"
		    "然后自己完成关闭"));
}
