/* explain.c -- the textbook step of each event (English and the Chinese textbook's names) and
 * one sentence of what happens and why, for --explain and --lang zh. One table, keyed by event
 * and, where the event covers several steps, by the segment's step or the message's type. */
#include <stddef.h>
#include <string.h>

#include "evlog.h"
#include "explain.h"

/* Any side, or only the client's or the server's log. */
enum { ANY = -1 };

static const struct entry {
	enum evlog_event ev;
	const char	*key;		/* segment step, message type, error "what"; NULL: any */
	int		 side;		/* ANY, EVLOG_CLIENT, EVLOG_SERVER */
	int		 kernel;	/* a TCP step seen from the kernel's states (no capture) */
	const char	*step_en, *step_zh;
	const char	*why, *why_zh;
} table[] = {
	/* TCP segments (--capture): the step field seglog_label gives them. */
	{ EVT_SEGMENT, "syn", ANY, 0, "1st handshake", "第一次握手",
	  "the connecting side's kernel sends SYN with its initial sequence number x: 'I want to "
	  "talk, and I will count my bytes from x'",
	  "发起连接一方的内核发出 SYN，带上初始序列号 x：“我要和你通信，我的字节从 x 开始编号”" },
	{ EVT_SEGMENT, "syn_resent", ANY, 0, "1st handshake, sent again", "第一次握手（重传）",
	  "no SYN+ACK came back before the retransmit timer fired, so the kernel sent the same "
	  "SYN (the same x) again; the wait since the try before is measured from the capture, "
	  "not assumed: kernels differ (some double it, some keep it fixed)",
	  "重传计时器到期前没有收到 SYN+ACK，内核把同一个 SYN（同一个 x）又发了一次；与上一次之间"
	  "隔了多久是从抓包量出来的，不是假定的：各个内核不同（有的加倍，有的不变）" },
	{ EVT_SEGMENT, "syn_ack_resent", ANY, 0, "2nd handshake, sent again",
	  "第二次握手（重传）",
	  "the listening side's kernel sent the same SYN+ACK (the same y) again: the client's "
	  "SYN came again, or no ACK completed the handshake before its timer fired",
	  "监听一方的内核又发了同一个 SYN+ACK（同一个 y）：客户端的 SYN 又来了，或者计时器到期前没"
	  "有 ACK 完成握手" },
	{ EVT_SEGMENT, "syn_ack", ANY, 0, "2nd handshake", "第二次握手",
	  "the listening side's kernel answers SYN+ACK: ack=x+1 confirms the SYN (a SYN counts "
	  "as one byte) and its own ISN y starts the other direction",
	  "监听一方的内核回答 SYN+ACK：确认号 ack=x+1 确认收到了 SYN（SYN 占一个序号），它自己的初"
	  "始序列号 y 开始另一个方向的编号" },
	{ EVT_SEGMENT, "ack_handshake", ANY, 0, "3rd handshake", "第三次握手",
	  "the connecting side ACKs y+1: now each side knows the other can send and receive, "
	  "the fewest segments that prove both directions work",
	  "发起连接的一方确认 y+1：现在双方都知道对方能发也能收，这是证明两个方向都通的最少报文段"
	  "数" },
	{ EVT_SEGMENT, "fin1", ANY, 0, "1st wave", "第一次挥手",
	  "the side that closes first sends FIN: it has no more data to send, but it can still "
	  "receive (a half-close)",
	  "先关闭的一方发出 FIN：它没有数据要发了，但仍然可以接收（半关闭）" },
	{ EVT_SEGMENT, "ack_fin1", ANY, 0, "2nd wave", "第二次挥手",
	  "the other side's kernel ACKs the FIN (u+1) on its own; its program may still have "
	  "data to send, so its own FIN comes later",
	  "另一方的内核自动确认这个 FIN（u+1）；它的程序可能还有数据要发，所以它自己的 FIN 稍后才"
	  "来" },
	{ EVT_SEGMENT, "fin2", ANY, 0, "3rd wave", "第三次挥手",
	  "the other side has sent all it had and closes its direction with its own FIN",
	  "另一方把要发的都发完了，用自己的 FIN 关闭它那个方向" },
	{ EVT_SEGMENT, "fin2_ack", ANY, 0, "2nd and 3rd wave", "第二次和第三次挥手",
	  "the ACK of the first FIN rode on the second FIN: the close took three segments, not "
	  "four (the textbook draws them apart)",
	  "对第一个 FIN 的确认搭在第二个 FIN 上一起发出：这次关闭只用了三个报文段，不是四个（教科"
	  "书把它们分开画）" },
	{ EVT_SEGMENT, "ack_fin2", ANY, 0, "4th wave", "第四次挥手",
	  "the last ACK; whoever sent it waits in TIME_WAIT for 2MSL, in case this ACK is lost "
	  "and the FIN comes again",
	  "最后一个 ACK；发出它的一方在 TIME_WAIT 中等待 2MSL，以防这个 ACK 丢失、对方重发 FIN" },
	{ EVT_SEGMENT, "rst", ANY, 0, NULL, NULL,
	  "RST aborts the connection at once: no four-way close and no TIME_WAIT",
	  "RST 立即中止连接：没有四次挥手，也没有 TIME_WAIT" },
	{ EVT_SEGMENT, "data", ANY, 0, NULL, NULL,
	  "a segment with data: seq numbers its first byte in the stream, ack says how much of "
	  "the peer's stream has arrived",
	  "携带数据的报文段：序号 seq 是它第一个字节在字节流中的编号，确认号 ack 表示对方的字节流"
	  "已经收到了多少" },
	{ EVT_SEGMENT, "ack", ANY, 0, NULL, NULL,
	  "an ACK alone: it tells the sender which bytes arrived (what is never ACKed is sent "
	  "again)",
	  "单独的 ACK：告诉发送方哪些字节已经到达（始终没被确认的会被重传）" },

	{ EVT_LISTEN, NULL, ANY, 0, NULL, NULL,
	  "listen() turns the socket into a passive one: from now on the kernel itself answers "
	  "SYNs on this port with SYN+ACK, before the program accepts anything",
	  "listen() 把套接字变成被动套接字：从此内核自己用 SYN+ACK 回答这个端口上的 SYN，"
	  "不需要程序先 accept()" },
	{ EVT_RESOLVE, NULL, ANY, 0, NULL, NULL,
	  "DNS (here: the resolver's files) turns the name into addresses before any segment "
	  "is sent; TCP connects to an address, TLS and HTTP still use the name",
	  "在发出任何报文段之前，DNS（这里是解析器的配置文件）先把域名解析成地址；TCP 连接的"
	  "是地址，TLS 和 HTTP 仍然使用域名" },
	{ EVT_WATCH_END, NULL, ANY, 0, NULL, NULL,
	  "the program stopped looking; the kernel keeps the connection in its state until "
	  "the timer runs out (TIME_WAIT: 60 s on Linux)",
	  "程序不再观察了；内核仍然让连接停留在这个状态，直到计时器到期（TIME_WAIT：Linux "
	  "上是 60 秒）" },
	{ EVT_CONNECT, NULL, ANY, 1, "1st handshake", "第一次握手",
	  "connect() makes our kernel send SYN with a random initial sequence number x; the "
	  "program itself never sees a segment",
	  "connect() 让我方内核发出 SYN，带一个随机的初始序列号 x；程序本身看不到任何报文段" },
	{ EVT_ESTABLISHED, NULL, EVLOG_CLIENT, 1, "2nd and 3rd handshake", "第二次和第三次握手",
	  "our kernel received SYN+ACK and answered ACK: the connection is open both ways and "
	  "connect() reports success",
	  "我方内核收到 SYN+ACK 并回了 ACK：连接两个方向都已打开，connect() 报告成功" },
	{ EVT_ESTABLISHED, NULL, EVLOG_SERVER, 1, "three-way handshake done", "三次握手完成",
	  "the kernel completed SYN, SYN+ACK, ACK on its own and queued the connection; accept() "
	  "only picks up a finished one",
	  "内核自己完成了 SYN、SYN+ACK、ACK，把连接放进队列；accept() 只是取走一个已经建立好的连"
	      "接" },
	{ EVT_ACCEPT_WAIT, NULL, ANY, 0, NULL, NULL,
	  "finished handshakes wait in the accept queue until the program calls "
	  "accept()",
	  "完成握手的连接在全连接队列（accept 队列）里等着，直到程序调用 accept()" },
	{ EVT_FIN_RECEIVED, NULL, ANY, 0, NULL, NULL,
	  "read() returning 0 is how a program learns of the peer's FIN",
	  "read() 返回 0，程序就是这样得知对方发来了 FIN" },
	{ EVT_FIN_SENT, NULL, ANY, 0, NULL, NULL,
	  "shutdown(SHUT_WR) makes the kernel send FIN: we send no more, but can still read "
	  "what the peer sends",
	  "shutdown(SHUT_WR) 让内核发出 FIN：我们不再发送，但仍然可以读取对方发来的数据" },
	{ EVT_CLOSED, NULL, ANY, 0, NULL, NULL,
	  "close() gives the socket back; the side that sent the first FIN (first_fin, read from "
	  "the kernel) keeps the connection in TIME_WAIT for 2MSL (60 s on Linux) so a lost last "
	  "ACK can be resent",
	  "close() 交还套接字；先发 FIN 的一方（first_fin，从内核读出）让连接在 TIME_WAIT 中保持 "
	  "2MSL（Linux 上是 60 秒），以便重发丢失的最后一个 ACK" },
	{ EVT_RESET, NULL, ANY, 0, NULL, NULL,
	  "RST ends the connection on the spot: unsent and unread data are lost, no TIME_WAIT",
	  "RST 当场结束连接：未发送和未读取的数据都丢失，没有 TIME_WAIT" },
	{ EVT_HOLD_CLOSE, NULL, ANY, 0, NULL, NULL,
	  "we hold our FIN back, so the half-closed states (CLOSE_WAIT here, FIN_WAIT2 there) "
	  "last long enough to see",
	  "我们暂不发出 FIN，让半关闭状态（这边的 CLOSE_WAIT，那边的 FIN_WAIT2）保持得足够久，好让"
	  "人看到" },
	{ EVT_PAUSE_READ, NULL, ANY, 0, NULL, NULL,
	  "we stop reading: the receive buffer fills and TCP flow control tells the sender to "
	  "wait (a zero window)",
	  "我们停止读取：接收缓冲区被填满，TCP 流量控制让发送方等待（零窗口）" },

	/* TLS */
	{ EVT_HANDSHAKE_START, NULL, ANY, 0, NULL, NULL,
	  "TLS starts only once TCP is up: its messages travel inside the TCP stream like any "
	  "other data",
	  "TCP 连接建立之后 TLS 才开始：它的消息像其他数据一样在 TCP 字节流中传输" },
	{ EVT_MESSAGE, "ClientHello", ANY, 0, "client hello", "ClientHello 客户端问候",
	  "the client proposes versions and cipher suites, with a fresh random value",
	  "客户端提出它支持的版本和密码套件，并附上一个新的随机数" },
	{ EVT_MESSAGE, "ServerHello", ANY, 0, "server hello", "ServerHello 服务器问候",
	  "the server picks one version and cipher suite, with its own random value",
	  "服务器选定一个版本和一个密码套件，并附上它自己的随机数" },
	{ EVT_MESSAGE, "HelloRetryRequest", ANY, 0, "hello retry", "HelloRetryRequest 重试问候",
	  "none of the client's key shares suits the server: the client must send a new "
	  "ClientHello, one more round trip",
	  "客户端给出的密钥份额（key share）没有一个适合服务器：客户端必须重新发送 ClientHello，多"
	  "一次往返" },
	{ EVT_MESSAGE, "EncryptedExtensions", ANY, 0, "encrypted extensions",
	  "EncryptedExtensions 加密扩展",
	  "the server's other choices, the first message under the handshake keys: an "
	  "eavesdropper no longer sees what follows",
	  "服务器的其他选择，这是第一条用握手密钥加密的消息：窃听者再也看不到后面的内容" },
	{ EVT_MESSAGE, "Certificate", ANY, 0, "certificate",	/* see who_certifies() */
	  "Certificate 证书",
	  "the certificate chain: a CA the other side trusts vouches that this public key "
	  "belongs to this name",
	  "证书链：对方信任的证书颁发机构（CA）担保这个公钥属于这个名字" },
	{ EVT_MESSAGE, "CertificateRequest", ANY, 0, "certificate request",
	  "CertificateRequest 证书请求",
	  "the server wants the client to prove who it is as well (mutual TLS)",
	  "服务器要求客户端也证明自己的身份（双向 TLS）" },
	{ EVT_MESSAGE, "CertificateVerify", ANY, 0, "proof of the private key",
	  "CertificateVerify 证明持有私钥",
	  "the sender proves it holds the private key: it signs the handshake so far, which a "
	  "copied certificate alone cannot do",
	  "发送方证明自己持有私钥：它用私钥对到目前为止的握手消息签名，仅仅复制来的证书做不到这一"
	  "点（这与校验证书链是两回事）" },
	{ EVT_MESSAGE, "ServerKeyExchange", ANY, 0, "server key exchange",
	  "ServerKeyExchange 服务器密钥交换",
	  "TLS 1.2 (EC)DHE: the server's fresh public key, signed with the certificate's key so "
	  "no one in the middle can swap it",
	  "TLS 1.2 (EC)DHE：服务器新生成的临时公钥，用证书的私钥签名，中间人无法偷换" },
	{ EVT_MESSAGE, "ServerHelloDone", ANY, 0, "server hello done",
	  "ServerHelloDone 服务器问候结束",
	  "TLS 1.2: the server has said everything; the client's turn",
	  "TLS 1.2：服务器该说的都说完了，轮到客户端" },
	{ EVT_MESSAGE, "ClientKeyExchange", ANY, 0, "client key exchange",
	  "ClientKeyExchange 客户端密钥交换",
	  "the client's half of the key exchange (RSA: the encrypted pre-master secret; "
	  "ECDHE: its public key): both sides now derive the session keys",
	  "客户端这一半的密钥交换（RSA：用服务器公钥加密的预主密钥；ECDHE：客户端的临时公钥）：此"
	  "后双方各自算出会话密钥" },
	{ EVT_MESSAGE, "ChangeCipherSpec", ANY, 0, "change cipher spec",
	  "ChangeCipherSpec 更改密码规范",	/* by version: see by_version() */
	  "TLS 1.2: 'my next records are encrypted'; TLS 1.3 sends it only so that old "
	  "middleboxes let the connection through",
	  "TLS 1.2：“我接下来的记录都加密了”；TLS 1.3 发送它只是为了让老旧的中间设备放行这个连接" },
	{ EVT_MESSAGE, "Finished", ANY, 0, "finished", "Finished 握手结束",
	  "a MAC over every handshake message under the new keys: if anyone changed a message "
	  "(say, struck the strongest cipher), the MACs differ and the handshake fails",
	  "用新密钥对全部握手消息计算的 MAC：如果有人改动了任何一条消息（比如删掉了最强的密码套件"
	  "），双方的 MAC 就对不上，握手失败" },
	{ EVT_MESSAGE, "NewSessionTicket", ANY, 0, "session ticket", "NewSessionTicket 会话票据",
	  "a ticket to resume this session later without a full handshake",
	  "一张会话票据，以后可以凭它恢复这个会话，不必做完整握手" },
	{ EVT_MESSAGE, "KeyUpdate", ANY, 0, "key update", "KeyUpdate 密钥更新",
	  "the sender switches to fresh traffic keys: old keys cannot read new data",
	  "发送方换用新的流量密钥：旧密钥读不了新数据" },
	{ EVT_MESSAGE, NULL, ANY, 0, NULL, NULL,
	  "a TLS handshake message",
	  "一条 TLS 握手消息" },
	{ EVT_ALPN, NULL, ANY, 0, NULL, NULL,
	  "ALPN: inside the handshake the two sides agree which application protocol the "
	  "encrypted connection will carry (http/1.1, h2), with no extra round trip",
	  "ALPN（应用层协议协商）：双方在握手中就商定加密连接上跑哪种应用层协议（http/1.1、"
	  "h2），不需要额外的往返" },
	{ EVT_RESUME, NULL, ANY, 0, "session resumption", "会话恢复",
	  "a session kept from an earlier handshake (a ticket) is offered again: if the server "
	  "takes it, the certificate and the full key exchange are skipped",
	  "再次提出以前握手保留下来的会话（会话票据）：服务器如果接受，就省去证书和完整的密钥"
	  "交换" },
	{ EVT_KEY_EXCHANGE, NULL, ANY, 0, "key exchange", "密钥交换",
	  "how the shared secret came about: public-key cryptography is used only "
	  "for this and for proving identity",
	  "共享密钥是怎样产生的：公钥密码（非对称加密）只用于这一步和证明身"
	      "份" },	/* resumed: see resumed_kx() */
	{ EVT_HANDSHAKE_DONE, NULL, ANY, 0, "symmetric encryption", "对称加密",
	  "the handshake is over: the data now goes under fast symmetric encryption with "
	  "session keys only the two ends know",
	  "握手结束：此后数据用快速的对称加密传输，会话密钥只有通信双方知道" },
	{ EVT_ALERT, NULL, ANY, 0, "alert", "警报",
	  "an alert: TLS's way to say what went wrong; a fatal one ends the session at once",
	  "警报（alert）：TLS 用它说明出了什么问题；致命警报会立即结束会话" },
	{ EVT_CLOSE_NOTIFY, NULL, ANY, 0, "close notify", "close_notify 关闭通知",
	  "close_notify says the data ended on purpose, so an attacker cannot cut the stream "
	  "short unnoticed (a truncation attack)",
	  "close_notify 表示数据是有意结束的，攻击者无法悄悄截断数据流（截断攻击）" },
	{ EVT_TLS_ERROR, "TLS handshake failed", ANY, 0, NULL, NULL,
	  "the TLS handshake failed: it never completed, so no HTTP data went through",
	  "TLS 握手失败：握手没有完成，因此没有任何 HTTP 数据通过" },
	{ EVT_TLS_ERROR, NULL, ANY, 0, NULL, NULL,
	  "the TLS layer failed: a connection whose records cannot be trusted ends here",
	  "TLS 层出错：记录无法信任的连接到此结束" },
	{ EVT_KEYLOG, NULL, ANY, 0, NULL, NULL,
	  "the session's secrets go to the key log for Wireshark: whoever has that file can "
	  "decrypt a capture of this connection",
	  "会话的密钥写入密钥日志供 Wireshark 使用：谁拿到这个文件，谁就能解密这个连接的抓包" },

	/* CERT */
	{ EVT_VERIFY, NULL, ANY, 0, "certificate check", "校验证书链",
	  "each certificate is checked from the root down: the issuer's signature, the dates "
	  "and the purpose; depth 0 is the server's own",
	  "从根证书往下逐个校验证书：签发者的签名、有效期和用途；深度 0 是服务器自己的证书" },
	{ EVT_HOSTNAME, NULL, ANY, 0, NULL, NULL,
	  "a valid certificate for another site proves nothing: the name we asked for must be "
	  "in this one",
	  "别的网站的有效证书什么也证明不了：我们请求的域名必须在这张证书里" },
	{ EVT_TRUST_DECISION, NULL, ANY, 0, NULL, NULL,
	  "the verdict on the chain: only a chain to a CA we trust, in date, for this name, "
	  "makes the connection authentic",
	  "对证书链的结论：只有链到我们信任的 CA、在有效期内、并且是这个域名的证书，才能证明连接的"
	  "对方是真的" },

	{ EVT_TRUST_QUESTION, NULL, ANY, 0, NULL, NULL,
	  "the chain did not check out, so only the user can decide: a browser shows the same "
	  "warning page; trusting it blindly lets a man in the middle read everything",
	  "证书链没有通过校验，只能由用户决定：浏览器显示的是同样的警告页面；盲目信任它，"
	  "中间人就能读到一切" },
	{ EVT_TRUST_RETRY, NULL, ANY, 0, NULL, NULL,
	  "the first handshake ended on the certificate; after the user's answer the client "
	  "connects again, with a new three-way handshake and a new TLS handshake",
	  "第一次握手因为证书而结束；用户回答之后客户端重新连接：新的三次握手，新的 TLS 握手" },
	/* HTTP */
	{ EVT_REQUEST, NULL, ANY, 0, "HTTP request", "HTTP 请求",
	  "the request line and headers: over HTTPS inside TLS application_data records, over "
	  "plain HTTP readable by anyone on the path",
	  "请求行和首部：在 HTTPS 中装在 TLS 的 application_data 记录里，在明文 HTTP 中路径上的任"
	  "何人都能读到" },
	{ EVT_RESPONSE, NULL, ANY, 0, "HTTP response", "HTTP 响应",
	  "the status line and headers; the body follows, its end marked by Content-Length, "
	  "chunked encoding or the close",
	  "状态行和首部；后面跟着响应体，它的结束由 Content-Length、分块传输编码（chunked）或关闭"
	  "连接来标明" },
	{ EVT_BODY, NULL, ANY, 0, NULL, NULL,
	  "the body is complete: now one side starts the close",
	  "响应体已完整收到：现在由一方开始关闭连接" },
	{ EVT_HTTP_ERROR, NULL, ANY, 0, NULL, NULL,
	  "the bytes broke HTTP/1.1's rules, so the message cannot be trusted",
	  "这些字节违反了 HTTP/1.1 的规则，所以这条消息不可信" },
	{ EVT_TIMING, NULL, ANY, 0, NULL, NULL,
	  "where the time went: TCP handshake, TLS handshake, waiting for the first byte",
	  "时间花在了哪里：TCP 握手、TLS 握手、等待第一个字节" },
};

/* The hellos and the ticket work differently in TLS 1.3 and 1.2: the ClientHello by what it
 * offers (its "summary"), the others by the version the message belongs to (its "version"). */
static void
by_version(const struct evrec *r, const char *type, struct explain *x)
{
	const char *sum = evrec_field_str(r, "summary");
	const char *ver = evrec_field_str(r, "version");
	int tls13 = ver != NULL && strcmp(ver, "TLSv1.3") == 0;
	/* The ClientHello's offered versions: the summary up to its first ';' ("offers TLS
	 * 1.3, 1.2, 1.1, 1.0"; "offers up to TLS 1.2 (legacy_version ...)" has no 1.3). */
	int offers13 = sum != NULL && strncmp(sum, "offers ", 7) == 0 &&
	    strncmp(sum, "offers up to ", 13) != 0 &&
	    memmem(sum, strcspn(sum, ";"), "1.3", 3) != NULL;
	int resume = sum != NULL && (strstr(sum, "offers a session ticket") != NULL ||
	    strstr(sum, "resumes the session") != NULL);

	if (strcmp(type, "ClientHello") == 0 && sum != NULL) {
		x->why = offers13 ? "the client proposes versions, cipher suites and a key share "
		    "(TLS 1.3), with a fresh random value: a TLS 1.3 server can answer with its "
		    "own share at once, in one round trip" : resume ? "TLS 1.2 and older: the "
		    "client proposes versions and cipher suites with a fresh random value, and "
		    "a session to resume: if the server takes it, neither a certificate nor a "
		    "key exchange follows" : "TLS 1.2 and older: the client proposes versions "
		    "and cipher suites with a fresh random value; no key share yet, the key "
		    "exchange comes after the server's certificate";
		x->why_zh = offers13 ? "客户端提出版本、密码套件和一个密钥份额（TLS 1.3），附上新的"
		    "随机数：TLS 1.3 服务器可以立即回送自己的密钥份额，一次往返就够" : resume ?
		    "TLS 1.2 及更早版本：客户端提出版本和密码套件，附上新的随机数，以及一个想恢复的"
		    "会话：服务器如果接受，后面就既没有证书也没有密钥交换" : "TLS 1.2 及更早版本："
		    "客户端提出版本和密码套件，附上新的随机数；还没有密钥份额，密钥交换在服务器的"
		    "证书之后进行";
	} else if (strcmp(type, "ServerHello") == 0 && ver != NULL) {
		x->why = tls13 ? "the server picks the version and cipher suite and sends its "
		    "random and key share: from here both sides derive the same handshake keys, "
		    "and every handshake message after it is encrypted (a ChangeCipherSpec "
		    "record in between is a plaintext dummy for middleboxes, carrying nothing)" :
		    resume ? "TLS 1.2, resumed: the server takes the session the client offered; "
		    "no certificate and no key exchange follow: the keys come from that "
		    "session's master secret and the two fresh randoms" :
		    "TLS 1.2: the server picks the version and cipher suite and sends its random; "
		    "no keys yet, they come from the key exchange that follows";
		x->why_zh = tls13 ? "服务器选定版本和密码套件，发来它的随机数和密钥份额：从这里起"
		    "双方算出相同的握手密钥，此后的每条握手消息都是加密的（中间夹着的 "
		    "ChangeCipherSpec 记录是为中间设备准备的明文空壳，什么也不携带）" : resume ?
		    "TLS 1.2，会话恢复：服务器接受客户端提出的会话；后面没有证书也没有密钥交换："
		    "密钥由那个会话的主密钥和双方新的随机数导出" : "TLS 1.2：服务器选定版本和"
		    "密码套件，发来它的随机数；此时还没有密钥，密钥来自接下来的密钥交换";
	} else if (strcmp(type, "ChangeCipherSpec") == 0 && ver != NULL) {
		x->why = tls13 ? "TLS 1.3 sends it only so that old middleboxes let the "
		    "connection through (RFC 8446 D.4): a plaintext record, not encrypted, "
		    "carrying nothing; TLS 1.3's encryption does not wait for it" :
		    "TLS 1.2: 'my next records are encrypted': the record itself is plaintext, "
		    "the sender's next one (its Finished) is the first under the new keys";
		x->why_zh = tls13 ? "TLS 1.3 发送它只是为了让老旧的中间设备放行这个连接（RFC 8446 "
		    "D.4）：一条明文记录，没有加密，什么也不携带；TLS 1.3 的加密并不等它" :
		    "TLS 1.2：“我接下来的记录都加密了”：这条记录本身是明文，发送方的下一条记录"
		    "（它的 Finished）才是第一条用新密钥加密的";
	} else if (strcmp(type, "NewSessionTicket") == 0 && ver != NULL) {
		x->why = tls13 ? "a ticket sent after the handshake: next time the client can "
		    "resume without the certificate and the signature" :
		    "TLS 1.2 (RFC 5077): a ticket sent at the end of the handshake, before the "
		    "server's ChangeCipherSpec: next time the client can resume without the "
		    "certificate and the key exchange";
		x->why_zh = tls13 ? "握手之后发来的会话票据：下次客户端可以凭它恢复会话，不需要证书"
		    "和签名" : "TLS 1.2（RFC 5077）：在握手末尾、服务器的 ChangeCipherSpec 之前发来"
		    "的"
		    "会话票据：下次客户端可以凭它恢复会话，不需要证书和密钥交换";
	}
}

/* key_exchange of a resumed session: what stood in for the key exchange. */
static void
resumed_kx(const struct evrec *r, struct explain *x)
{
	long long resumed = 0, fs = 0;

	if (evrec_field_int(r, "resumed", &resumed) == -1 || !resumed)
		return;
	(void)evrec_field_int(r, "forward_secrecy", &fs);
	x->step_en = "session resumption";
	x->step_zh = "会话恢复";
	x->why = fs ? "resumed: the ticket's secret (PSK) is mixed with a fresh ECDHE: "
	    "public-key cryptography only for that key exchange; no certificate, no "
	    "signature" : "resumed: no key exchange and no public-key cryptography in this "
	    "handshake; the secret was made by the key exchange of an earlier session and is "
	    "reused, with fresh randoms";
	x->why_zh = fs ? "会话恢复：票据中的密钥（PSK）与一次新的 ECDHE 混合：公钥密码只用于这次"
	    "密钥交换；没有证书，也没有签名" : "会话恢复：这次握手没有密钥交换，也不用公钥密码；"
	    "密钥是以前某个会话的密钥交换产生的，这里配合新的随机数重用";
}

/* The kernel's view of the close: the wave the FIN is, from the record's "wave" field. */
static void
close_step(const struct evrec *r, struct explain *x)
{
	long long wave = 0, simultaneous = 0, known = 1, unread = 0;
	static const char unread_why[] = "the kernel shows a state only the peer's FIN leads "
	    "to, behind bytes the program has not read yet: read() returns 0 only after them";
	static const char unread_zh[] = "内核显示的状态只有收到对方的 FIN 才会出现，但 FIN "
	    "排在程序还没读的字节后面：read() 要读完这些字节才返回 0";

	if (evrec_field_int(r, "wave", &wave) == -1)
		return;
	if (r->ev == EVT_FIN_RECEIVED)
		(void)evrec_field_int(r, "unread", &unread);
	x->kernel = 1;
	(void)evrec_field_int(r, "simultaneous", &simultaneous);
	if (simultaneous) {
		/* The kernel showed CLOSING: each FIN left before the other arrived. */
		x->step_en = "simultaneous close";
		x->step_zh = "同时关闭";
		x->why = "both sides sent FIN before either FIN arrived (the kernel showed CLOSING, "
		    "or the capture shows the two FINs crossing): each ACKs the other's FIN, and "
		    "both wait in TIME_WAIT";
		x->why_zh = "双方都在收到对方的 FIN 之前发出了自己的 FIN（内核显示 CLOSING，或者"
		    "抓包显示两个 FIN 交错而过）：各自确认对方的 FIN，双方都进入 TIME_WAIT";
	} else if (r->ev == EVT_FIN_SENT && wave == 1) {
		x->step_en = "1st wave";
		x->step_zh = "第一次挥手";
	} else if (r->ev == EVT_FIN_SENT) {
		x->step_en = "3rd wave";
		x->step_zh = "第三次挥手";
	} else if (wave == 1) {
		/* Linux delays this ACK (tcp_fin() enters pingpong mode) so that it can ride
		 * on our own FIN: it may not have gone out yet. */
		x->step_en = "1st wave (its ACK follows)";
		x->step_zh = "第一次挥手（确认随后）";
		x->why = unread ? unread_why : "read() returning 0 is how a program learns of "
		    "the peer's FIN: it arrived, and our kernel ACKs it, at once or together with "
		    "our own FIN";
		x->why_zh = unread ? unread_zh : "read() 返回 0，程序就是这样得知对方的 FIN："
		    "它已经到达，我方内核会确认它，可能立即确认，也可能和我方自己的 FIN 一起发出";
	} else if (evrec_field_int(r, "after_ours_known", &known) == 0 && !known) {
		/* Ours had left; whether the peer's left after ours arrived, nothing showed. */
		x->step_en = "the peer's FIN, after ours left (3rd wave, or a crossing)";
		x->step_zh = "对方的FIN，在我方FIN之后（第三次挥手，或两个FIN交错）";
		x->why = unread ? unread_why : "read() returning 0 is how a program learns of "
		    "the peer's FIN: it arrived after ours had left, and our kernel ACKed it at "
		    "once; whether the peer sent it before or after ours reached it, this side "
		    "did not see";
		x->why_zh = unread ? unread_zh : "read() 返回 0，程序就是这样得知对方的 FIN："
		    "它在我方 FIN 发出之后到达，我方内核立即确认了它；至于对方是在我方 FIN 到达之前"
		    "还是之后发出的，这一方看不到";
	} else {
		/* In FIN_WAIT2 (or CLOSING) the kernel ACKs a FIN at once. */
		x->step_en = "3rd and 4th wave";
		x->step_zh = "第三次和第四次挥手";
		x->why = unread ? unread_why : "read() returning 0 is how a program learns of "
		    "the peer's FIN: it arrived after ours had left, and our kernel ACKed it at "
		    "once (the 4th wave)";
		x->why_zh = unread ? unread_zh : "read() 返回 0，程序就是这样得知对方的 FIN："
		    "它在我方 FIN 发出之后到达，我方内核立即确认了它（第四次挥手）";
	}
	/* Not read() = 0 either: a RST after it, or it came just before our close(). */
	if (r->ev == EVT_FIN_RECEIVED && !unread && !simultaneous &&
	    strncmp(r->detail, "read() returned 0", 17) != 0 &&
	    strncmp(r->detail, "read() 返回 0", strlen("read() 返回 0")) != 0) {
		x->why = "the peer's FIN is in; the detail says how this side learned of it";
		x->why_zh = "对方的 FIN 已经到达；详情说明了这一方是怎样得知的";
	}
}

/* state_change (sock_diag): the states the textbook names. */
static void
state_step(const struct evrec *r, struct explain *x)
{
	const char *to = evrec_field_str(r, "to");

	if (to == NULL)
		return;
	x->kernel = 1;
	if (strcmp(to, "FIN_WAIT2") == 0) {
		x->step_en = "2nd wave";
		x->step_zh = "第二次挥手";
		x->why = "the peer's kernel ACKed our FIN; we wait in FIN_WAIT2 for its own FIN";
		x->why_zh = "对方内核确认了我方的 FIN；我们在 FIN_WAIT2 中等待对方自己的 FIN";
	} else if (strcmp(to, "TIME_WAIT") == 0) {
		x->step_en = "after the 4th wave: 2MSL";
		x->step_zh = "第四次挥手之后：等待 2MSL";
		x->why = "TIME_WAIT lasts 2MSL (twice the maximum segment lifetime, 60 s on Linux): "
		    "a lost last ACK can be resent, and old segments die before the port is reused";
		x->why_zh = "TIME_WAIT 持续 2MSL（最大报文段生存时间的两倍，Linux 上是 60 秒）："
		    "丢失的最后一个 ACK 可以重发，旧的报文段也会在端口被重用之前消失";
	} else if (strcmp(to, "LAST_ACK") == 0) {
		x->step_en = "3rd wave";
		x->step_zh = "第三次挥手";
		x->why = "our FIN went out after the peer's: we wait for its ACK (the 4th wave)";
		x->why_zh = "我方的 FIN 在对方的之后发出：我们等待对方的 ACK（第四次挥手）";
	} else if (strcmp(to, "CLOSE_WAIT") == 0) {
		x->step_en = "1st wave (its ACK follows)";
		x->step_zh = "第一次挥手（确认随后）";
		x->why = "the peer's FIN came; our kernel ACKs it, at once or together with our "
		    "own FIN; the program still has to close";
		x->why_zh = "对方的 FIN 到了；我方内核会确认它，可能立即确认，也可能和我方自己的 "
		    "FIN 一起发出；程序还要自己关闭";
	} else if (strcmp(to, "FIN_WAIT1") == 0) {
		x->why = "our FIN is out and not yet ACKed: the kernel keeps a retransmit timer "
		    "running for it, as for data";
		x->why_zh = "我方的 FIN 已发出、尚未被确认：内核像对待数据一样为它开着重传计时器";
	} else if (strcmp(to, "SYN_SENT") == 0) {
		x->step_en = "1st handshake";
		x->step_zh = "第一次握手";
		x->why = "our SYN is out and unanswered: the kernel sends it again each time its "
		    "retransmit timer fires; the waits are what the timer shows (with --capture, "
		    "each resent SYN says how long after the one before it left), not a rule: "
		    "kernels differ";
		x->why_zh = "我方的 SYN 已发出、没有回应：每当重传计时器到期，内核就再发一次；等待"
		    "的时间是"
		    "计时器显示的（加上 --capture 时，每个重传的 SYN 会说明它比上一个晚了多久），"
		    "不是规定：各个内核不同";
	} else {
		x->kernel = 0;
		x->why = "the kernel's TCP state machine moved, seen through sock_diag as ss shows it";
		x->why_zh = "内核的 TCP 状态机发生了转移，通过 sock_diag 看到（与 ss 所显示的相同"
		    "）";
	}
}

/* A Certificate message: the server's or (mutual TLS) the client's. */
static void
who_certifies(const struct evrec *r, struct explain *x)
{
	const char *dir = evrec_field_str(r, "dir");
	int out = dir != NULL && strcmp(dir, "out") == 0;

	if (dir == NULL)
		return;
	if ((evlog_side() == EVLOG_SERVER) == out) {
		x->step_en = "server certificate";
		x->step_zh = "Certificate 服务器证书";
	} else {
		x->step_en = "client certificate";
		x->step_zh = "Certificate 客户端证书";
	}
}

int
explain_event(const struct evrec *r, int segments, struct explain *x)
{
	const char *key = NULL;
	long long len = 0;
	size_t i;

	memset(x, 0, sizeof(*x));
	if (r->ev == EVT_SEGMENT)
		key = evrec_field_str(r, "step");
	else if (r->ev == EVT_MESSAGE)
		key = evrec_field_str(r, "type");
	else if (r->ev == EVT_TLS_ERROR)
		key = evrec_field_str(r, "what");
	if (r->ev == EVT_STATE_CHANGE)
		state_step(r, x);
	else if (r->ev == EVT_FIN_SENT || r->ev == EVT_FIN_RECEIVED)
		close_step(r, x);
	for (i = 0; x->why == NULL && i < sizeof(table) / sizeof(table[0]); i++) {
		if (table[i].ev != r->ev)
			continue;
		if (table[i].side != ANY && table[i].side != (int)evlog_side())
			continue;
		if (table[i].key != NULL && (key == NULL || strcmp(table[i].key, key) != 0))
			continue;
		if (x->step_en == NULL) {
			x->step_en = table[i].step_en;
			x->step_zh = table[i].step_zh;
			x->kernel = table[i].kernel;
		}
		x->why = table[i].why;
		x->why_zh = table[i].why_zh;
	}
	if (r->ev == EVT_MESSAGE && key != NULL && strcmp(key, "Certificate") == 0)
		who_certifies(r, x);
	if (r->ev == EVT_MESSAGE && key != NULL)
		by_version(r, key, x);
	if (r->ev == EVT_KEY_EXCHANGE)
		resumed_kx(r, x);
	if (r->ev == EVT_SEGMENT && key != NULL && strcmp(key, "ack_fin1") == 0 &&
	    evrec_field_int(r, "len", &len) == 0 && len > 0) {
		x->why = "the first segment to ACK the FIN (u+1) carries data: after the peer's "
		    "FIN this side still sent something (e.g. a TLS close_notify, or the response "
		    "after a half-close), and the ACK rode on it; this side's own FIN comes later";
		x->why_zh = "第一个确认这个 FIN（u+1）的报文段携带了数据：收到对方的 FIN 之后，"
		    "这一方还发送了一些东西（例如 TLS 的 close_notify，或者半关闭之后的响应），"
		    "ACK 就搭在上面；这一方自己的 FIN 稍后才来";
	}
	/* With a capture the segments carry the TCP steps: the kernel's state events would only
	 * repeat them (and could seem to name segments of their own). */
	if (x->kernel && segments) {
		x->step_en = NULL;
		x->step_zh = NULL;
	}
	return x->why != NULL || x->step_en != NULL;
}
