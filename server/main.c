/* main.c -- the server: read the flags, listen on loopback (HTTP, HTTPS CA-signed, HTTPS
 * self-signed), serve until SIGINT/SIGTERM, then let the open connections close. */
#include <sys/resource.h>
#include <signal.h>
#include <stdio.h>

#include <event2/event.h>

#include "cmdline.h"
#include "conn.h"
#include "evlog.h"
#include "seglog.h"
#include "server.h"
#include "tcpwatch.h"
#include "tls.h"

/* The first signal stops listening and closes every connection (within 3 s); a second one
 * stops at once. */
static void
stop_cb(evutil_socket_t sig, short what, void *arg)
{
	struct event_base *base = arg;
	struct timeval bound = { 3, 0 };

	(void)what;
	if (session_stopping()) {
		evlog(EVT_STOP, 0, -1, "%s", TR("second signal: stopping now",
		    "第二个信号：立即停止"));
		event_base_loopbreak(base);
		return;
	}
	evlog(EVT_STOP, 0, -1, TR("%s: no new connections; closing %d open connection(s)",
	    "%s：不再接受新连接；正在关闭 %d 个打开的连接"),
	    sig == SIGINT ? "SIGINT" : "SIGTERM", conn_count());
	listen_stop();
	session_stop_all();
	if (conn_count() == 0)
		event_base_loopexit(base, NULL);
	else
		event_base_loopexit(base, &bound);
}

static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
main(int argc, char **argv)
{
	struct options o = options_parse(argc, argv);
	struct event_base *base = NULL;
	struct event *sigint = NULL, *sigterm = NULL;
	char err[1024];
	int ret = 1;

	signal(SIGPIPE, SIG_IGN);	/* a peer that resets mid-response must not kill us */
	raise_fd_limit();
	cmdline_log_setup(&o.common, EVLOG_SERVER, stdout);
	if ((base = new_base()) == NULL) {
		snprintf(err, sizeof(err), "%s", TR("cannot create the event loop",
		    "无法创建事件循环"));
		goto done;
	}
	evlog_set_base(base);
	session_init(base, &o);
	/* Each connection's events, kept for its page (GET /) and /events.json; /live's
	 * history of closed ones and its event stream. */
	live_init(base, &o);
	evlog_set_tap(record_tap);
	tls_set_hello_tap(record_hello);
	tls_set_record_tap(record_tls_header);
	/* Before the first listen event: whoever reads it may stop us at once. */
	sigint = evsignal_new(base, SIGINT, stop_cb, base);
	sigterm = evsignal_new(base, SIGTERM, stop_cb, base);
	if (sigint == NULL || sigterm == NULL || evsignal_add(sigint, NULL) == -1 ||
	    evsignal_add(sigterm, NULL) == -1) {
		snprintf(err, sizeof(err), "%s", TR("cannot install the signal handlers",
		    "无法安装信号处理函数"));
		goto done;
	}
	if (listen_start(base, &o, err, sizeof(err)) == -1)
		goto done;
	listen_capture(base, &o);
	/* The listen events come last: whoever reads them may connect at once, and the capture
	 * must already be running to see that SYN. */
	listen_announce();

	event_base_dispatch(base);
	ret = 0;
done:
	if (ret != 0)
		fprintf(stderr, "server: %s\n", err);
	conn_close_all(TR("server stopped before the close finished",
	    "关闭完成之前服务器已停止"), 1);
	tcpwatch_stop_all();
	seglog_close();
	listen_free();
	if (ret == 0)
		evlog(EVT_STOP, 0, -1, "%s", TR("stopped", "已停止"));
	session_free();
	evlog_set_tap(NULL);
	tls_set_hello_tap(NULL);
	tls_set_record_tap(NULL);
	live_free();
	record_free();
	evlog_set_base(NULL);
	if (sigint != NULL)
		event_free(sigint);
	if (sigterm != NULL)
		event_free(sigterm);
	if (base != NULL)
		event_base_free(base);
	return ret;
}
