/* tls_log.c -- the callbacks that turn OpenSSL's view of a handshake into events: every
 * message and alert (msg callback), each certificate checked (verify), the key log, the
 * session summary once the handshake is done, and the OpenSSL errors of a failure. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "conn.h"
#include "dissect.h"
#include "evlog.h"
#include "tls.h"

static FILE *keylog_fp;
static int dissect_on;		/* --dissect: every field of every handshake message */

static void msg_cb(int, int, int, const void *, size_t, SSL *, void *);

/* ---- set-up ---- */

/* A connection's TLS state, in memory its connection provides (conn_new(), zeroed): no alert
 * yet. */
void
tls_state_init(struct tls_state *t)
{
	t->alert_in = -1;
	t->alert_out = -1;
}

/* What the state allocated on the way (the verify errors) goes with its connection. */
void
tls_state_clear(struct tls_state *t)
{
	free(t->verify);
	t->verify = NULL;
	t->nverify = 0;
}

static void
keylog_cb(const SSL *ssl, const char *line)
{
	(void)ssl;
	if (keylog_fp != NULL) {
		fprintf(keylog_fp, "%s\n", line);
		fflush(keylog_fp);
	}
}

/* Open the key log file for appending, or refuse it: whoever can read it can decrypt the
 * traffic, and a file someone else prepared (a shared /tmp, fs.protected_regular 0) would hand
 * them the secrets. So: no symbolic link (O_NOFOLLOW), nothing but a regular file (a FIFO
 * would also hang open(): O_NONBLOCK), ours, and readable or writable by no one else (group or
 * others). A new file is made mode 0600. Returns the fd, or -1 with the reason in err. */
static int
keylog_open(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
	if (fd == -1) {
		if (errno == ELOOP)
			snprintf(err, errlen, TR("refusing the key log file '%s': it is a symbolic link "
			    "(someone else may have put it there): give the real path",
			    "拒绝使用密钥日志文件 '%s'：它是符号链接（可能是别人放在那里的）：请给"
			    "出真实路径"), path);
		else if (errno == ENXIO)	/* a FIFO no one reads, a socket, a device */
			snprintf(err, errlen, TR("refusing the key log file '%s': not a regular file",
			    "拒绝使用密钥日志文件 '%s'：不是普通文件"),
			    path);
		else
			snprintf(err, errlen, TR("cannot open the key log file '%s': %s",
			    "无法打开密钥日志文件 '%s'：%s"), path,
			    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, TR("cannot check the key log file '%s': %s",
		    "无法检查密钥日志文件 '%s'：%s"), path,
		    strerror(errno));
		goto err;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, TR("refusing the key log file '%s': not a regular file",
			    "拒绝使用密钥日志文件 '%s'：不是普通文件"), path);
		goto err;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, TR("refusing the key log file '%s': it belongs to user %lu, not to "
		    "us (%lu): whoever owns it could read the TLS secrets",
		    "拒绝使用密钥日志文件 '%s'：它属于用户 %lu，不属于我们（%lu）：文件的主人能读"
		    "到 TLS 密钥"), path,
		    (unsigned long)st.st_uid, (unsigned long)geteuid());
		goto err;
	}
	if (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) {
		snprintf(err, errlen, TR("refusing the key log file '%s': mode %04o lets other users "
		    "read or write it (the TLS secrets): chmod 600 it, or give a new file",
		    "拒绝使用密钥日志文件 '%s'：权限 %04o 允许其他用户读写它（TLS 密钥）：请 "
		    "chmod 600，或者换一个新文件"),
		    path, (unsigned)(st.st_mode & 07777));
		goto err;
	}
	return fd;
err:
	close(fd);
	return -1;
}

/* What the log needs of a new context: the message callback, --dissect, and the key log
 * file (opened once, shared by every context). */
int
tls_log_setup(SSL_CTX *ctx, const struct tls_opts *o, char *err, size_t errlen)
{
	int fd;

	SSL_CTX_set_msg_callback(ctx, msg_cb);
	if (o->dissect)
		dissect_on = 1;
	if (o->keylog != NULL && keylog_fp == NULL) {
		if ((fd = keylog_open(o->keylog, err, errlen)) == -1)
			return -1;
		if ((keylog_fp = fdopen(fd, "a")) == NULL) {
			snprintf(err, errlen, TR("cannot open the key log file '%s': %s",
			    "无法打开密钥日志文件 '%s'：%s"), o->keylog,
			    strerror(errno));
			close(fd);
			return -1;
		}
		evlog(EVT_KEYLOG, 0, -1, TR("writing TLS secrets to %s (NSS key log format, for "
		    "Wireshark): anyone with this file can decrypt the captured traffic",
		    "把 TLS 密钥写入 %s（NSS 密钥日志格式，供 Wireshark 使用）：谁拿到这个文件，谁"
		    "就能解密抓到的流量"), o->keylog);
	}
	if (keylog_fp != NULL)
		SSL_CTX_set_keylog_callback(ctx, keylog_cb);
	return 0;
}

/* Close the key log file at exit (the last connection is gone): no fd is left behind. */
void
tls_keylog_close(void)
{
	if (keylog_fp != NULL) {
		fclose(keylog_fp);
		keylog_fp = NULL;
	}
}

/* ---- the message callback: every handshake message and alert ---- */

/* What an alert about a certificate means, in words ("" for the others). */
static const char *
alert_gloss(int desc)
{
	switch (desc) {
	case 116: return TR(": a client certificate is required (mutual TLS) and none was sent",
	    "：需要客户端证书（双向 TLS），但对方没有发送");
	case 48:  return TR(": the certificate's issuer is not trusted",
	    "：证书的签发者不受信任");
	case 42:  return TR(": the certificate is rejected",
	    "：证书被拒绝");
	case 43:  return TR(": the certificate's type is not supported",
	    "：不支持这种类型的证书");
	case 44:  return TR(": the certificate was revoked",
	    "：证书已被吊销");
	case 45:  return TR(": the certificate has expired (or is not yet valid)",
	    "：证书已过期（或尚未生效）");
	case 46:  return TR(": the certificate cannot be trusted (browsers send this for any "
		    "certificate problem)",
		    "：证书不可信（浏览器对任何证书问题都发这个警报）");
	case 40:  return TR(": no common ground for the handshake (TLS 1.2 also uses it for a "
		    "missing client certificate)",
		    "：握手双方没有共同的选择（TLS 1.2 缺少客户端证书时也用它）");
	default:  return "";
	}
}

/* The suite being negotiated: during the handshake it is still the pending one. */
static const SSL_CIPHER *
tls_cipher(const SSL *ssl)
{
	const SSL_CIPHER *c;

	if ((c = SSL_get_pending_cipher(ssl)) == NULL)
		c = SSL_get_current_cipher(ssl);
	return c;
}

/* The version a handshake message belongs to, for the log: a ServerHello says what it
 * picks ("picks TLSv1.2; ..."); before it (ClientHello) nothing is decided yet: "". */
static void
message_version(SSL *ssl, const char *name, const char *summary, char *out, size_t outlen)
{
	size_t n;

	out[0] = '\0';
	if (strcmp(name, "ClientHello") == 0 || strcmp(name, "HelloRetryRequest") == 0)
		return;
	if (strcmp(name, "ServerHello") == 0) {
		if (strncmp(summary, "picks ", 6) != 0)
			return;
		n = strcspn(summary + 6, ";");
		snprintf(out, outlen, "%.*s", (int)n, summary + 6);
		return;
	}
	snprintf(out, outlen, "%s", tls_version_name(SSL_version(ssl)));
}

static const char *
message_gloss(SSL *ssl, const char *name, int write_p, const char *summary, size_t len)
{
	/* At the ServerHello, SSL_version() still says what the client offered: the hello
	 * itself says what was picked. */
	int tls13 = strcmp(name, "ServerHello") == 0 ? strstr(summary, "TLSv1.3") != NULL :
	    SSL_version(ssl) == TLS1_3_VERSION;
	int from_server = SSL_is_server(ssl) ? write_p : !write_p;
	const SSL_CIPHER *c;

	if (strcmp(name, "ClientHello") == 0)
		return TR("the client proposes TLS versions and cipher suites (for TLS 1.3 also a key "
		    "share), with a fresh random value",
		    "客户端提出它支持的 TLS 版本和密码套件（TLS 1.3 还带上密钥份额），附上一个新的"
		    "随机数");
	if (strcmp(name, "ServerHello") == 0)
		return tls13 ? TR("the server picks version and cipher suite and sends its own key "
		    "share: both sides can now compute the handshake keys, and the handshake "
		    "messages after this one are encrypted (a ChangeCipherSpec record, if one "
		    "comes, is a plaintext dummy)",
		    "服务器选定版本和密码套件，并发来自己的密钥份额：双方现在都能算出握手密钥，此后"
		    "的握手消息都是加密的（如果有 ChangeCipherSpec 记录，它只是个明文空壳"
		    "）") : strstr(summary, "resumes the session") ?
		    TR("the server picks version and cipher suite and resumes the offered session: "
		    "no certificate, no key exchange",
		    "服务器选定版本和密码套件，并恢复客户端提出的会话：没有证书，也没有密钥交"
		    "换") : TR("the server picks version and cipher "
		    "suite, with its own random value",
		    "服务器选定版本和密码套件，附上它自己的随机数");
	if (strcmp(name, "HelloRetryRequest") == 0)
		return TR("the server wants a key share for another group: the client must try again",
		    "服务器想要另一个组的密钥份额：客户端必须重试");
	if (strcmp(name, "EncryptedExtensions") == 0)
		return TR("the rest of the server's choices (e.g. ALPN), already encrypted",
		    "服务器的其余选择（例如 ALPN），已经加密");
	if (strcmp(name, "Certificate") == 0 && !from_server && len <= 8)
		return TR("empty: the client has no certificate to offer",
		    "空的：客户端没有证书可提供");
	if (strcmp(name, "Certificate") == 0)
		return from_server ? TR("the server's certificate chain: its public key, signed by a CA "
		    "the client must trust",
		    "服务器的证书链：它的公钥，由客户端必须信任的 CA 签"
		    "名") : TR("the client's certificate (mutual TLS)",
		        "客户端的证书（双向 TLS）");
	if (strcmp(name, "CertificateRequest") == 0)
		return TR("the server asks the client for a certificate (mutual TLS)",
		    "服务器要求客户端出示证书（双向 TLS）");
	if (strcmp(name, "CertificateVerify") == 0)
		return from_server ? TR("the server proves it holds the certificate's private key: a "
		    "signature over the handshake so far",
		    "服务器证明自己持有证书的私钥：对到目前为止的握手消息做的签"
		    "名") : TR("the client proves it holds its "
		    "certificate's private key",
		    "客户端证明自己持有它证书的私钥");
	if (strcmp(name, "ServerKeyExchange") == 0)
		return TR("TLS 1.2 (EC)DHE: the server's ephemeral public key, signed with the "
		    "certificate's key",
		    "TLS 1.2 (EC)DHE：服务器的临时公钥，用证书的私钥签名");
	if (strcmp(name, "ServerHelloDone") == 0) {
		c = tls_cipher(ssl);
		if (c != NULL && SSL_CIPHER_get_kx_nid(c) == NID_kx_rsa)
			return TR("TLS 1.2: the server has said all it will say; no ServerKeyExchange: "
			    "with RSA key transport the certificate's own key is the key exchange",
			    "TLS 1.2：服务器该说的都说完了；没有 ServerKeyExchange：在 RSA 密钥传"
			    "输中，证书自己的密钥就是密钥交换");
		return TR("TLS 1.2: the server has said all it will say; the client's turn",
		    "TLS 1.2：服务器该说的都说完了；轮到客户端");
	}
	if (strcmp(name, "ClientKeyExchange") == 0) {
		c = tls_cipher(ssl);
		if (c != NULL && SSL_CIPHER_get_kx_nid(c) == NID_kx_rsa)
			return TR("the textbook step: the client encrypts a random pre-master secret "
			    "with the server's RSA public key",
			    "教科书上的那一步：客户端用服务器的 RSA 公钥加密一个随机的预主密钥");
		return TR("the client's ephemeral public key: both sides now compute the same "
		    "pre-master secret, which never crossed the wire",
		    "客户端的临时公钥：双方现在算出相同的预主密钥，它从未在网络上传输");
	}
	if (strcmp(name, "Finished") == 0)
		return TR("a MAC over the whole handshake with the new keys: proves nobody tampered "
		    "with it",
		    "用新密钥对整个握手计算的 MAC：证明没有人篡改过握手");
	if (strcmp(name, "NewSessionTicket") == 0)
		return TR("a ticket to resume this session later without a full handshake",
		    "一张会话票据，以后可以凭它恢复这个会话，不必做完整握手");
	if (strcmp(name, "KeyUpdate") == 0)
		return TR("the sender switches to fresh traffic keys",
		    "发送方换用新的流量密钥");
	return "";
}

/* --lang zh: a hello's summary (its field stays English: explain.c and the checkers read it)
 * in Chinese, phrase by phrase. */
static const char *
summary_zh(const char *sum, char *buf, size_t len)
{
	static const char *const words[][2] = {
		{ "offers up to version ", "最高提出版本 " }, { "offers up to ", "最高提出 " },
		{ " (legacy_version, no supported_versions)", "（legacy_version，没有 "
		    "supported_versions）" },
		{ "offers a session ticket to resume", "提出用会话票据恢复会话" },
		{ "offers ", "提出 " }, { " (and GREASE)", "（另有 GREASE）" },
		{ " cipher suites", " 个密码套件" }, { " cipher suite", " 个密码套件" },
		{ "asks for a key share for ", "要求另一个组的密钥份额：" },
		{ "key share ", "密钥份额 " }, { "picks ", "选定 " },
		{ "accepts the ticket (PSK): resumed", "接受票据（PSK）：会话恢复" },
		{ "resumes the session (the ClientHello's session_id echoed)", "恢复会话（回送了 "
		    "ClientHello 的 session_id）" },
		{ "; ", "；" },
	};
	size_t o = 0, i, n;

	while (*sum && o + 1 < len) {
		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (strncmp(sum, words[i][0], strlen(words[i][0])) == 0)
				break;
		if (i < sizeof(words) / sizeof(words[0])) {
			n = strlen(words[i][1]);
			if (o + n >= len)
				break;
			memcpy(buf + o, words[i][1], n);
			o += n;
			sum += strlen(words[i][0]);
		} else
			buf[o++] = *sum++;
	}
	buf[o] = '\0';
	return buf;
}

/* --dissect: one record per field, printed as indented lines under the message. */
struct dissect_out {
	struct conn	*c;
	int		 write_p;
	const char	*msg;
};

#define DISSECT_HEX_JSON	1536	/* bytes of hex in JSON: an ML-KEM key share fits */
#define DISSECT_HEX_TEXT	64	/* bytes of hex in the text log, in groups of 8 */

static void
dissect_item_cb(const struct dissect_item *it, void *arg)
{
	struct dissect_out *o = arg;
	struct evrec r;
	char hex[2 * DISSECT_HEX_JSON + 1], text[3 * DISSECT_HEX_TEXT + 64];
	size_t i, n, l;

	if (!evrec_begin(&r, EVT_DISSECT, o->c->id, -1))
		return;
	evrec_str(&r, "dir", o->write_p ? "out" : "in");
	evrec_str(&r, "msg", o->msg);
	evrec_int(&r, "depth", it->depth);
	evrec_str(&r, "field", it->field);
	evrec_str(&r, "value", it->value);
	if (it->code >= 0)
		evrec_int(&r, "code", it->code);
	text[0] = '\0';
	if (it->bytes != NULL) {
		evrec_int(&r, "len", (long long)it->nbytes);
		n = dissect_hex(it->bytes, it->nbytes < DISSECT_HEX_JSON ? it->nbytes :
		    DISSECT_HEX_JSON, hex, sizeof(hex));
		evrec_str(&r, "hex", hex);
		if (n < it->nbytes)
			evrec_bool(&r, "hex_truncated", 1);
		/* The text log: the first bytes, 8 to a group, so the lines wrap cleanly. */
		for (i = 0; i < it->nbytes && i < DISSECT_HEX_TEXT; i += 8) {
			l = strlen(text);
			text[l++] = ' ';
			dissect_hex(it->bytes + i, it->nbytes - i < 8 ? it->nbytes - i : 8,
			    text + l, sizeof(text) - l);
		}
		if (it->nbytes > DISSECT_HEX_TEXT) {
			l = strlen(text);
			snprintf(text + l, sizeof(text) - l, TR(" ... (%zu bytes in all)",
			    " ……（共 %zu 字节）"), it->nbytes);
		}
	}
	evrec_label(&r, "%*s%s", 2 * it->depth, "", it->field);
	evrec_detail(&r, "%s%s%s", it->value, text[0] ? " " : "", text);
	evrec_emit(&r);
}

static void
log_dissect(SSL *ssl, struct conn *c, int write_p, const char *name,
    const unsigned char *msg, size_t len)
{
	struct dissect_out o = { c, write_p, name };
	struct dissect_ctx ctx = { SSL_version(ssl), DISSECT_KX_UNKNOWN };
	const SSL_CIPHER *ciph;

	if ((ciph = tls_cipher(ssl)) != NULL) {
		switch (SSL_CIPHER_get_kx_nid(ciph)) {
		case NID_kx_ecdhe:	ctx.kx = DISSECT_KX_ECDHE; break;
		case NID_kx_dhe:	ctx.kx = DISSECT_KX_DHE; break;
		case NID_kx_rsa:	ctx.kx = DISSECT_KX_RSA; break;
		}
	}
	(void)dissect_message(msg, len, &ctx, dissect_item_cb, &o);
}

/* OpenSSL calls the message callback for what we send after the record has gone to the
 * BIO: straight into the socket once the handshake is over (an alert, close_notify), so the
 * peer may have it before the callback runs. The callback for the record's header comes
 * before that write: its time is the message's. Application data records have no message
 * of their own and leave nothing pending. */
static void
record_out(struct conn *c, int content_type, const unsigned char *p, size_t len)
{
	struct tls_state *t = c->tls;

	if (len < 1)
		return;
	if (content_type == SSL3_RT_HEADER)
		t->rec_us = evlog_now_us();
	/* TLS 1.3 seals everything as application data: its inner type says what it is */
	if (p[0] != SSL3_RT_APPLICATION_DATA && t->out_us == 0)
		t->out_us = t->rec_us;
}

/* An outgoing message's record takes the time its first record was sealed (see above). */
static void
out_time(struct conn *c, struct evrec *r)
{
	if (c->tls->out_us > 0)
		evrec_set_time(r, c->tls->out_us);
	c->tls->out_us = 0;
}

/* TLS 1.2: does this ServerHello resume a session? It does when it echoes the session_id the
 * ClientHello sent (RFC 5246 7.4.1.3; with a ticket, RFC 5077 3.4). The client's offered
 * session holds that id (OpenSSL names a ticket's session by it); the server has decided. */
static int
server_hello_resumes(SSL *ssl, const unsigned char *msg, size_t len)
{
	const unsigned char *sid;
	unsigned int sidlen;
	SSL_SESSION *sess;

	if (SSL_is_server(ssl))
		return SSL_session_reused(ssl);
	if (len < 4 + 2 + 32 + 1 || msg[4 + 2 + 32] == 0 || len < 4 + 2 + 32 + 1 +
	    (size_t)msg[4 + 2 + 32])
		return 0;
	if ((sess = SSL_get_session(ssl)) == NULL)
		return 0;
	sid = SSL_SESSION_get_id(sess, &sidlen);
	return sidlen == msg[4 + 2 + 32] && memcmp(sid, msg + 4 + 2 + 32 + 1, sidlen) == 0;
}

static void
log_message(SSL *ssl, struct conn *c, int write_p, const char *name, size_t len,
    const unsigned char *msg)
{
	struct evrec r;
	char sum[256] = "", sumzh[512], ver[32];
	const char *group;
	int hrr = strcmp(name, "HelloRetryRequest") == 0;

	if (!evrec_begin(&r, EVT_MESSAGE, c->id, c->fd))
		return;
	if (write_p)
		out_time(c, &r);
	evrec_str(&r, "dir", write_p ? "out" : "in");
	evrec_str(&r, "type", name);
	evrec_int(&r, "len", (long long)len);
	if (msg != NULL && len > 0 && (msg[0] == 1 || msg[0] == 2)) {
		tls_hello_summary(msg, len, sum, sizeof(sum));
		if (strcmp(name, "ServerHello") == 0 && strncmp(sum, "picks TLSv1.3", 13) != 0 &&
		    sum[0] && server_hello_resumes(ssl, msg, len))
			snprintf(sum + strlen(sum), sizeof(sum) - strlen(sum), "; resumes the "
			    "session (the ClientHello's session_id echoed)");
		if (sum[0])
			evrec_str(&r, "summary", sum);
	}
	message_version(ssl, name, sum, ver, sizeof(ver));
	if (ver[0])
		evrec_str(&r, "version", ver);
	evrec_label(&r, "%s %s", write_p ? ">" : "<", name);
	evrec_detail(&r, "%zu B%s%s", len, sum[0] ? "  " : "", evlog_zh() ? summary_zh(sum,
	    sumzh, sizeof(sumzh)) : sum);
	if (strcmp(name, "ServerHello") == 0)
		c->tls->sh_seen = 1;
	/* TLS 1.3 sends its ChangeCipherSpec right after the first hello of its side's
	 * flight (RFC 8446 D.4): after a HelloRetryRequest that is before any ServerHello,
	 * when no keys exist yet. */
	if (strcmp(name, "ChangeCipherSpec") == 0 && SSL_version(ssl) == TLS1_3_VERSION &&
	    !c->tls->sh_seen)
		evrec_gloss(&r, TR("TLS 1.3 middlebox compatibility (RFC 8446 D.4): a plaintext "
		    "record, not encrypted, that carries nothing (one byte, 0x01), %s: no "
		    "keys exist yet, it changes nothing",
		    "TLS 1.3 的中间设备兼容（RFC 8446 D.4）：一条明文记录，没有加密，什么也不携带（"
		    "一个字节 0x01），%s：此时还没有密钥，它什么也不改"
		    "变"), c->tls->hrr ? TR("sent after the "
		    "HelloRetryRequest, before the ServerHello",
		    "在 HelloRetryRequest 之后、ServerHello 之前发"
		    "出") : TR("before the ServerHello",
		    "在 ServerHello 之前"));
	else if (strcmp(name, "ChangeCipherSpec") == 0)
		evrec_gloss(&r, "%s", SSL_version(ssl) == TLS1_3_VERSION ?
		    TR("TLS 1.3 middlebox compatibility: a plaintext record, not encrypted, that "
		    "carries nothing (one byte, 0x01); the encryption began with the keys from "
		    "the hellos",
		    "TLS 1.3 的中间设备兼容：一条明文记录，没有加密，什么也不携带（一个字节 0x01）"
		    "；加密从双方问候（hello）得出的密钥开始就已经开始了") :
		    TR("from the next record on, this side encrypts: its Finished is the first "
		    "record under the new keys",
		    "从下一条记录起，这一方开始加密：它的 Finished 是第一条用新密钥加密的记录"));
	else if (hrr) {
		c->tls->hrr = 1;
		group = strncmp(sum, "asks for a key share for ", 25) == 0 ? sum + 25 : "?";
		evrec_str(&r, "group", group);
		evrec_gloss(&r, TR("HelloRetryRequest: the server asks for another key share (group "
		    "%s) — one extra round trip",
		    "HelloRetryRequest：服务器要求另一个密钥份额（组 %s）——多一次往返"), group);
	} else
		evrec_gloss(&r, "%s", message_gloss(ssl, name, write_p, sum, len));
	evrec_emit(&r);
	if (dissect_on && msg != NULL)
		log_dissect(ssl, c, write_p, name, msg, len);
}

static void
msg_cb(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl,
    void *arg)
{
	const unsigned char *p = buf;
	struct conn *c = tls_conn(ssl);
	struct evrec r;

	(void)version;
	(void)arg;
	if (c == NULL)
		return;
	/* The program decides on a received fatal alert (exit 35), logging or not. */
	if (content_type == SSL3_RT_ALERT && !write_p && len >= 2 && p[0] == 2)
		c->tls->alert_in = p[1];
	if (content_type == SSL3_RT_ALERT && write_p && len >= 2 && p[0] == 2)
		c->tls->alert_out = p[1];
	if (content_type == SSL3_RT_ALERT && !write_p && len >= 2 && p[1] == SSL3_AD_CLOSE_NOTIFY)
		c->tls->notify_in = 1;
	if (!evlog_on())
		return;
	if (content_type == SSL3_RT_HEADER && len >= 5)
		tls_record_tapped(c, write_p, p);
	if (write_p && (content_type == SSL3_RT_HEADER ||
	    content_type == SSL3_RT_INNER_CONTENT_TYPE)) {
		record_out(c, content_type, p, len);
		return;
	}
	if (content_type == SSL3_RT_HEADER) {
		/* A received ChangeCipherSpec never reaches this callback in OpenSSL 3.0 (only
		 * its record header does), so log it from the header. */
		if (!write_p && len >= 5 && p[0] == SSL3_RT_CHANGE_CIPHER_SPEC)
			log_message(ssl, c, 0, "ChangeCipherSpec", (size_t)(p[3] << 8 | p[4]), NULL);
		return;
	}
	if (content_type > 255)
		return;
	switch (content_type) {
	case SSL3_RT_CHANGE_CIPHER_SPEC:
		if (write_p)
			log_message(ssl, c, 1, "ChangeCipherSpec", len, NULL);
		break;
	case SSL3_RT_HANDSHAKE:
		if (len >= 1 && !write_p && p[0] == SSL3_MT_CLIENT_HELLO)
			tls_hello_tapped(c, p, len);
		if (len >= 1)
			log_message(ssl, c, write_p, tls_handshake_name(p[0], p, len), len, p);
		break;
	case SSL3_RT_ALERT:
		if (len < 2)
			break;
		if (p[1] == SSL3_AD_CLOSE_NOTIFY) {
			if (!evrec_begin(&r, EVT_CLOSE_NOTIFY, c->id, c->fd))
				break;
			if (write_p)
				out_time(c, &r);
			evrec_str(&r, "dir", write_p ? "out" : "in");
			evrec_detail(&r, "%s close_notify", write_p ? TR("sent", "发出") :
			    TR("received", "收到"));
			evrec_gloss(&r, "%s", write_p ? TR("TLS says goodbye: no more data from us "
			    "(protects against a truncation attack)",
			    "TLS 道别：我方不再发送数据（防止截断攻击"
			    "）") : TR("the peer's TLS goodbye: it "
			    "will send no more data",
			    "对方的 TLS 道别：它不再发送数据"));
			evrec_emit(&r);
			break;
		}
		if (!evrec_begin(&r, EVT_ALERT, c->id, c->fd))
			break;
		if (write_p)
			out_time(c, &r);
		evrec_str(&r, "dir", write_p ? "out" : "in");
		evrec_str(&r, "level", p[0] == 2 ? "fatal" : "warning");
		evrec_str(&r, "desc", tls_alert_name(p[1]));
		evrec_int(&r, "code", p[1]);
		evrec_label(&r, "%s alert", write_p ? ">" : "<");
		evrec_detail(&r, "%s %s (%d)", p[0] == 2 ? TR("fatal", "致命") :
		    TR("warning", "警告"), tls_alert_name(p[1]), p[1]);
		evrec_gloss(&r, "%s%s", write_p ? TR("we tell the peer what went wrong and end the "
		    "session",
		    "我们告诉对方出了什么问题，并结束会话") : TR("the peer tells us what went "
		    "wrong", "对方告诉我们出了什么问题"), alert_gloss(p[1]));
		evrec_emit(&r);
		break;
	default:
		break;
	}
	if (write_p)
		c->tls->out_us = 0;	/* a record no message claimed (none is logged) */
}

/* ---- after the handshake ---- */

static int
group_bits(const char *g)
{
	if (strcmp(g, "X25519") == 0)
		return 253;
	if (strcmp(g, "X448") == 0)
		return 448;
	if (strncmp(g, "P-", 2) == 0)
		return atoi(g + 2);
	if (strncmp(g, "ffdhe", 5) == 0)
		return atoi(g + 5);
	return 0;
}


/* A resumed session (abbreviated handshake): what replaced the key exchange. */
static void
log_resumed_kx(struct conn *c, int tls13, const char *group)
{
	struct evrec r;

	if (!evrec_begin(&r, EVT_KEY_EXCHANGE, c->id, c->fd))
		return;
	/* "PSK" is TLS 1.3's word (psk_ke); in TLS 1.2 it names RFC 4279's pre-shared-key
	 * suites, which a resumed session is not: it reuses the old master secret. */
	evrec_str(&r, "kx", !tls13 ? "resumed (master secret)" : group[0] ? "PSK+ECDHE" :
	    "PSK");
	evrec_str(&r, "group", tls13 ? group : "");
	evrec_bool(&r, "forward_secrecy", tls13 && group[0]);
	evrec_bool(&r, "resumed", 1);
	if (tls13 && group[0]) {
		evrec_detail(&r, TR("session resumed: ticket (PSK) + a fresh ECDHE over %s",
		    "会话恢复：票据（PSK）+ 一次新的 ECDHE（%s）"), group);
		evrec_gloss(&r, TR("abbreviated handshake: the ticket stands in for the certificate "
		    "(no Certificate, no CertificateVerify); the keys come from the ticket's "
		    "secret and a fresh key exchange, which gives forward secrecy (psk_dhe_ke)",
		    "简化握手：票据代替了证书（没有 Certificate，也没有 CertificateVerify）；密钥"
		    "来自票据中的密钥和一次新的密钥交换，因此有前向保密（psk_dhe_ke）"));
	} else {
		evrec_detail(&r, TR("session resumed: no key exchange (%s)",
		    "会话恢复：没有密钥交换（%s）"), tls13 ? "PSK only" :
		    TR("the old master secret, fresh randoms",
		        "旧的主密钥，新的随机数"));
		evrec_gloss(&r, TR("abbreviated handshake: no key exchange and no public-key "
		    "cryptography this time: the keys come from the secret of an earlier session "
		    "(made by that session's key exchange) and this handshake's fresh randoms; no "
		    "certificate is sent or checked",
		    "简化握手：这次没有密钥交换，也不用公钥密码：密钥来自以前某个会话的密钥（由那"
		    "个会话的密钥交换产生）和这次握手的新随机数；不发送也不校验证书"));
	}
	evrec_emit(&r);
}

void
tls_log_session(struct conn *c)
{
	SSL *ssl = c->ssl;
	const SSL_CIPHER *ciph = SSL_get_current_cipher(ssl);
	const unsigned char *alpn = NULL;
	unsigned alpnlen = 0;
	const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	EVP_PKEY *tmp = NULL;
	X509 *peer = NULL;
	struct evrec r;
	int kxnid, bits = 0, alg_bits = 0, tls13, rsa_kx, rtts;
	const char *kx, *group = "", *ktype = "";
	char alpn_s[64] = "";

	if (!evlog_on() || ciph == NULL)
		return;
	tls13 = SSL_version(ssl) == TLS1_3_VERSION;
	kxnid = SSL_CIPHER_get_kx_nid(ciph);
	rsa_kx = kxnid == NID_kx_rsa;
	if (!rsa_kx)
		group = tls_group_name(ssl);
	if (SSL_session_reused(ssl)) {
		log_resumed_kx(c, tls13, tls13 ? group : "");
		goto done;
	}
	if (rsa_kx)
		kx = "RSA";
	else if (kxnid == NID_kx_dhe || (group != NULL && strncmp(group, "ffdhe", 5) == 0))
		kx = "DHE";
	else
		kx = "ECDHE";
	/* The ephemeral key: on TLS 1.2 only the client is told the server's. */
	if (rsa_kx) {
		if (!c->is_server && (peer = SSL_get1_peer_certificate(ssl)) != NULL)
			tmp = X509_get_pubkey(peer);
		else if (SSL_get_certificate(ssl) != NULL)
			tmp = X509_get_pubkey(SSL_get_certificate(ssl));
	} else if (!SSL_get_peer_tmp_key(ssl, &tmp))
		SSL_get_tmp_key(ssl, &tmp);
	if (tmp != NULL) {
		ktype = EVP_PKEY_get0_type_name(tmp);
		bits = EVP_PKEY_get_bits(tmp);
	} else if (!rsa_kx && group != NULL && group[0]) {
		/* OpenSSL 3.0 tells a TLS 1.2 server nothing about the ephemeral key: the
		 * group names it. */
		ktype = group;
		bits = group_bits(group);
	}
	if (evrec_begin(&r, EVT_KEY_EXCHANGE, c->id, c->fd)) {
		evrec_str(&r, "kx", kx);
		evrec_str(&r, "group", group ? group : "");
		evrec_str(&r, "key_type", ktype ? ktype : "");
		evrec_int(&r, "key_bits", bits);
		evrec_bool(&r, "forward_secrecy", !rsa_kx);
		if (rsa_kx) {
			evrec_detail(&r, TR("RSA key transport (server key %s %d bits)",
			    "RSA 密钥传输（服务器密钥 %s %d 位）"),
			    ktype ? ktype : "?", bits);
			evrec_gloss(&r, TR("the textbook story: the client encrypted a random secret "
			    "with the server's public key; no forward secrecy, so TLS 1.3 dropped it",
			    "教科书上讲的过程：客户端用服务器的公钥加密了一个随机密钥；没有前向保"
			    "密，所以 TLS 1.3 取消了它"));
		} else {
			evrec_detail(&r, TR("%s over %s (ephemeral key %s, %d bits)",
			    "%s，组 %s（临时密钥 %s，%d 位）"), kx,
			    group ? group : "?", ktype ? ktype : "?", bits);
			evrec_gloss(&r, TR("unlike the textbook's 'client encrypts a secret with the "
			    "server's public key': both sides made fresh key pairs and combined "
			    "them; the secret never crossed the wire (forward secrecy)",
			    "和教科书上“客户端用服务器公钥加密一个密钥”不同：双方各自生成新的密钥"
			    "对并把它们组合起来；这个密钥从未在网络上传输（前向保密）"));
		}
		evrec_emit(&r);
	}
	EVP_PKEY_free(tmp);
	X509_free(peer);
done:
	SSL_CIPHER_get_bits(ciph, &alg_bits);
	SSL_get0_alpn_selected(ssl, &alpn, &alpnlen);
	if (alpnlen > 0 && alpnlen < sizeof(alpn_s)) {
		memcpy(alpn_s, alpn, alpnlen);
		alpn_s[alpnlen] = '\0';
	}
	if (!evrec_begin(&r, EVT_HANDSHAKE_DONE, c->id, c->fd))
		return;
	evrec_str(&r, "version", SSL_get_version(ssl));
	evrec_str(&r, "cipher", SSL_CIPHER_standard_name(ciph));
	evrec_str(&r, "cipher_openssl", SSL_CIPHER_get_name(ciph));
	evrec_int(&r, "cipher_bits", SSL_CIPHER_get_bits(ciph, NULL));
	evrec_bool(&r, "aead", SSL_CIPHER_is_aead(ciph));
	evrec_bool(&r, "resumed", SSL_session_reused(ssl));
	evrec_str(&r, "alpn", alpn_s);
	evrec_str(&r, "sni", sni ? sni : "");
	evrec_float(&r, "handshake_ms", (double)(c->t_tls - c->t_tcp) / 1000.0);
	evrec_detail(&r, TR("%s  %s  (%d-bit keys%s)%s", "%s  %s  （%d 位密钥%s）%s"),
	    SSL_get_version(ssl), SSL_CIPHER_standard_name(ciph), SSL_CIPHER_get_bits(ciph, NULL),
	    SSL_CIPHER_is_aead(ciph) ? TR(", AEAD", "，AEAD") : "", SSL_session_reused(ssl) ?
	    TR("  session resumed", "  会话恢复") : "");
	/* The round trips this handshake took, counted from what went by: TLS 1.3 and a
	 * resumption take one, a full TLS 1.2 handshake two, a HelloRetryRequest one more. */
	rtts = (tls13 || SSL_session_reused(ssl) ? 1 : 2) + (c->tls->hrr ? 1 : 0);
	if (!SSL_session_reused(ssl))
		evrec_gloss(&r, TR("handshake complete: from now on both sides use symmetric "
		    "encryption with session keys derived from the key exchange (%s: %d round "
		    "trip%s)", "握手完成：从现在起双方使用对称加密，会话密钥由密钥交换导出（%s：%d "
		    "次往返%s）"), tls13 && c->tls->hrr ? TR("TLS 1.3 after a HelloRetryRequest",
		    "TLS 1.3，经过一次 HelloRetryRequest") : tls13 ? "TLS 1.3" : "TLS 1.2", rtts,
		    rtts == 1 || evlog_zh() ? "" : "s");
	else
		evrec_gloss(&r, TR("handshake complete: from now on both sides use symmetric "
		    "encryption with session keys derived from %s (resumed: %d round trip%s, no "
		    "certificate)", "握手完成：从现在起双方使用对称加密，会话密钥由%s导出（会话恢复"
		    "："
		    "%d 次往返%s，没有证书"
		    "）"), !tls13 ? TR("the earlier session's master secret and "
		    "this handshake's randoms, no key exchange", "以前那个会话的主密钥和这次握手的"
		    "随机数，没有密钥交"
		    "换") : tls_group_name(ssl)[0] ? TR("the ticket's secret (PSK) "
		    "and a fresh key exchange", "票据中的密钥（PSK）和一次新的密钥交换") :
		    TR("the ticket's secret (PSK), no key exchange", "票据中的密钥（PSK），没有密钥"
		    "交换"), rtts, rtts == 1 || evlog_zh() ? "" : "s");
	evrec_emit(&r);
}

/* ---- errors and certificate checks ---- */

/* --lang zh: what failed, for the detail (the "what" field stays as the caller said it). */
static const char *
what_words(const char *what)
{
	static const char *const words[][2] = {
		{ "TLS handshake failed", "TLS 握手失败" },
		{ "TLS error", "TLS 出错" },
		{ "sending close_notify failed", "发送 close_notify 失败" },
	};
	size_t i;

	for (i = 0; evlog_zh() && i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(what, words[i][0]) == 0)
			return words[i][1];
	return what;
}

/* Drain and log every queued OpenSSL error; returns how many were logged. */
int
tls_log_errors(struct conn *c, const char *what)
{
	unsigned long e;
	char text[256];
	int n = 0;
	struct evrec r;

	for (;;) {
		e = 0;
		if (c->bev)
			e = bufferevent_get_openssl_error(c->bev);
		if (e == 0)
			e = ERR_get_error();
		if (e == 0)
			break;
		/* libevent can push SSL_get_error's code itself as a bogus entry: skip those. */
		if (ERR_GET_LIB(e) == 0 && ERR_GET_REASON(e) <= 10)
			continue;
		ERR_error_string_n(e, text, sizeof(text));
		if (evrec_begin(&r, EVT_TLS_ERROR, c->id, c->fd)) {
			const char *why = ERR_reason_error_string(e);
			evrec_str(&r, "what", what);
			evrec_str(&r, "reason", why ? why : "");
			evrec_str(&r, "openssl", text);
			/* --lang zh: our words in Chinese, OpenSSL's own quoted as it said them */
			evrec_detail(&r, TR("%s: %s  (%s)", "%s：OpenSSL 说 \"%s\"  (OpenSSL: %s)"),
			    what_words(what), why ? why : "?", text);
			if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
			    ERR_GET_REASON(e) == SSL_R_NO_SUITABLE_KEY_SHARE)
				evrec_gloss(&r, TR("no key exchange group in common: the client offered "
				    "none that this side accepts (see --groups)",
				    "没有共同的密钥交换组：客户端提出的组没有一个是这一方接受的（"
				    "见 --groups）"));
			evrec_emit(&r);
		}
		n++;
	}
	return n;
}

/* The server's check of a client certificate (mutual TLS): log each depth, decide as
 * OpenSSL did -- a server has nobody to ask. */
int
tls_server_verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct conn *c = ssl ? tls_conn(ssl) : NULL;

	if (c != NULL)
		tls_verify_record(c, ok, xs);
	return ok;
}

/* Called from a verify callback: log one verify event per depth (error set only where
 * OpenSSL called with ok=0) and remember every (depth, error) for the trust prompt. */
void
tls_verify_record(struct conn *c, int ok, X509_STORE_CTX *ctx)
{
	X509 *cert = X509_STORE_CTX_get_current_cert(ctx);
	int depth = X509_STORE_CTX_get_error_depth(ctx);
	int err = X509_STORE_CTX_get_error(ctx);
	unsigned bit = depth >= 0 && depth < 32 ? 1u << depth : 0;
	struct tls_state *t = c->tls;
	struct tls_cert_info ci;
	unsigned i;
	struct evrec r;

	if (!ok) {
		for (i = 0; i < t->nverify; i++)
			if (t->verify[i].depth == depth && t->verify[i].error == err)
				return;
		if (t->verify == NULL)
			t->verify = calloc(TLS_MAX_VERIFY_ERRS, sizeof(*t->verify));
		if (t->verify != NULL && t->nverify < TLS_MAX_VERIFY_ERRS) {
			t->verify[t->nverify].depth = depth;
			t->verify[t->nverify].error = err;
			t->nverify++;
		}
	} else if (t->verify_logged & bit)
		return;
	t->verify_logged |= bit;
	if (cert == NULL || !evrec_begin(&r, EVT_VERIFY, c->id, c->fd))
		return;
	tls_cert_info(cert, &ci);
	evrec_int(&r, "depth", depth);
	evrec_str(&r, "subject", ci.subject);
	evrec_str(&r, "issuer", ci.issuer);
	evrec_str(&r, "not_before", ci.not_before);
	evrec_str(&r, "not_after", ci.not_after);
	evrec_str(&r, "sha256", ci.sha256);
	evrec_bool(&r, "ok", ok);
	evrec_int(&r, "error", ok ? 0 : err);
	evrec_str(&r, "error_text", ok ? "" : X509_verify_cert_error_string(err));
	evrec_label(&r, "verify depth=%d", depth);
	if (ok)
		evrec_detail(&r, "%s  issuer=%s  ok", ci.subject, ci.issuer);
	else
		evrec_detail(&r, TR("%s  issuer=%s  error %d: %s", "%s  issuer=%s  错误 "
		    "%d：\"%s\""),
		    ci.subject, ci.issuer, err,
		    X509_verify_cert_error_string(err));
	if (!ok)
		evrec_gloss(&r, "%s", tls_verify_plain(err));
	else if (depth > 0)
		evrec_gloss(&r, TR("a CA certificate in the chain%s",
		    "证书链中的一张 CA 证书%s"), X509_check_issued(cert, cert) ==
		    X509_V_OK ? TR(": a root we trust, it vouches for the certificate below",
		        "：我们信任的根证书，它为下面的证书担保") :
		    TR(", itself vouched for by the one above",
		        "，它本身由上面那张证书担保"));
	else if (c->is_server)
		evrec_gloss(&r, TR("the client's own certificate (mutual TLS): signature, dates and "
		    "purpose check out",
		    "客户端自己的证书（双向 TLS）：签名、有效期和用途都校验通过"));
	else
		evrec_gloss(&r, TR("the server's own certificate: signature, dates and purpose check "
		    "out",
		    "服务器自己的证书：签名、有效期和用途都校验通过"));
	evrec_emit(&r);
}

/* The first certificate error seen, as curl reports it; 0 if none. */
int
tls_verify_first_error(const struct conn *c, int *depth)
{
	if (c->tls == NULL || c->tls->nverify == 0)
		return 0;
	if (depth)
		*depth = c->tls->verify[0].depth;
	return c->tls->verify[0].error;
}

/* Every certificate error seen, in the order OpenSSL reported them (*list; may be NULL);
 * returns how many (0 for a plain connection). */
int
tls_verify_errors(const struct conn *c, const struct tls_verify_err **list)
{
	if (list != NULL)
		*list = c->tls != NULL ? c->tls->verify : NULL;
	return c->tls != NULL ? c->tls->nverify : 0;
}

/* The last fatal alert the peer sent (e.g. 116, certificate_required); -1: none. */
int
tls_alert_received(const struct conn *c)
{
	return c->tls != NULL ? c->tls->alert_in : -1;
}

/* The peer's close_notify came: over TLS, only it says that data ended by the close is
 * whole (a FIN alone may be an attacker's truncation). */
int
tls_close_notify_received(const struct conn *c)
{
	return c->tls != NULL && c->tls->notify_in;
}
