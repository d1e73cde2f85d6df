/* dissect_names.c -- the names of TLS code points for --dissect and the hello summaries: cipher
 * suites, groups, extensions, signature algorithms and versions (IANA's registries; GREASE
 * values, RFC 8701, named as such). Tables only. */
#include <stddef.h>

#include "dissect.h"

/* ---- names ---- */

static const struct {
	unsigned	 id;
	const char	*name;
} suites[] = {
	{ 0x0001, "TLS_RSA_WITH_NULL_MD5" },
	{ 0x0002, "TLS_RSA_WITH_NULL_SHA" },
	{ 0x002C, "TLS_PSK_WITH_NULL_SHA" },
	{ 0x002D, "TLS_DHE_PSK_WITH_NULL_SHA" },
	{ 0x002E, "TLS_RSA_PSK_WITH_NULL_SHA" },
	{ 0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA" },
	{ 0x0032, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA" },
	{ 0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA" },
	{ 0x0034, "TLS_DH_anon_WITH_AES_128_CBC_SHA" },
	{ 0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA" },
	{ 0x0038, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA" },
	{ 0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA" },
	{ 0x003A, "TLS_DH_anon_WITH_AES_256_CBC_SHA" },
	{ 0x003B, "TLS_RSA_WITH_NULL_SHA256" },
	{ 0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256" },
	{ 0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256" },
	{ 0x0040, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256" },
	{ 0x0041, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA" },
	{ 0x0044, "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA" },
	{ 0x0045, "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA" },
	{ 0x0046, "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA" },
	{ 0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256" },
	{ 0x006A, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256" },
	{ 0x006B, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256" },
	{ 0x006C, "TLS_DH_anon_WITH_AES_128_CBC_SHA256" },
	{ 0x006D, "TLS_DH_anon_WITH_AES_256_CBC_SHA256" },
	{ 0x0084, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA" },
	{ 0x0087, "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA" },
	{ 0x0088, "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA" },
	{ 0x0089, "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA" },
	{ 0x008C, "TLS_PSK_WITH_AES_128_CBC_SHA" },
	{ 0x008D, "TLS_PSK_WITH_AES_256_CBC_SHA" },
	{ 0x0090, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA" },
	{ 0x0091, "TLS_DHE_PSK_WITH_AES_256_CBC_SHA" },
	{ 0x0094, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA" },
	{ 0x0095, "TLS_RSA_PSK_WITH_AES_256_CBC_SHA" },
	{ 0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256" },
	{ 0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384" },
	{ 0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256" },
	{ 0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384" },
	{ 0x00A2, "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256" },
	{ 0x00A3, "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384" },
	{ 0x00A6, "TLS_DH_anon_WITH_AES_128_GCM_SHA256" },
	{ 0x00A7, "TLS_DH_anon_WITH_AES_256_GCM_SHA384" },
	{ 0x00A8, "TLS_PSK_WITH_AES_128_GCM_SHA256" },
	{ 0x00A9, "TLS_PSK_WITH_AES_256_GCM_SHA384" },
	{ 0x00AA, "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256" },
	{ 0x00AB, "TLS_DHE_PSK_WITH_AES_256_GCM_SHA384" },
	{ 0x00AC, "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256" },
	{ 0x00AD, "TLS_RSA_PSK_WITH_AES_256_GCM_SHA384" },
	{ 0x00AE, "TLS_PSK_WITH_AES_128_CBC_SHA256" },
	{ 0x00AF, "TLS_PSK_WITH_AES_256_CBC_SHA384" },
	{ 0x00B0, "TLS_PSK_WITH_NULL_SHA256" },
	{ 0x00B1, "TLS_PSK_WITH_NULL_SHA384" },
	{ 0x00B2, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA256" },
	{ 0x00B3, "TLS_DHE_PSK_WITH_AES_256_CBC_SHA384" },
	{ 0x00B4, "TLS_DHE_PSK_WITH_NULL_SHA256" },
	{ 0x00B5, "TLS_DHE_PSK_WITH_NULL_SHA384" },
	{ 0x00B6, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA256" },
	{ 0x00B7, "TLS_RSA_PSK_WITH_AES_256_CBC_SHA384" },
	{ 0x00B8, "TLS_RSA_PSK_WITH_NULL_SHA256" },
	{ 0x00B9, "TLS_RSA_PSK_WITH_NULL_SHA384" },
	{ 0x00BA, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256" },
	{ 0x00BD, "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA256" },
	{ 0x00BE, "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256" },
	{ 0x00BF, "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA256" },
	{ 0x00C0, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256" },
	{ 0x00C3, "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA256" },
	{ 0x00C4, "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256" },
	{ 0x00C5, "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA256" },
	{ 0x00FF, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV" },
	{ 0x1301, "TLS_AES_128_GCM_SHA256" },
	{ 0x1302, "TLS_AES_256_GCM_SHA384" },
	{ 0x1303, "TLS_CHACHA20_POLY1305_SHA256" },
	{ 0x1304, "TLS_AES_128_CCM_SHA256" },
	{ 0x1305, "TLS_AES_128_CCM_8_SHA256" },
	{ 0x5600, "TLS_FALLBACK_SCSV" },
	{ 0xC006, "TLS_ECDHE_ECDSA_WITH_NULL_SHA" },
	{ 0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA" },
	{ 0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA" },
	{ 0xC010, "TLS_ECDHE_RSA_WITH_NULL_SHA" },
	{ 0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA" },
	{ 0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA" },
	{ 0xC015, "TLS_ECDH_anon_WITH_NULL_SHA" },
	{ 0xC018, "TLS_ECDH_anon_WITH_AES_128_CBC_SHA" },
	{ 0xC019, "TLS_ECDH_anon_WITH_AES_256_CBC_SHA" },
	{ 0xC01D, "TLS_SRP_SHA_WITH_AES_128_CBC_SHA" },
	{ 0xC01E, "TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA" },
	{ 0xC01F, "TLS_SRP_SHA_DSS_WITH_AES_128_CBC_SHA" },
	{ 0xC020, "TLS_SRP_SHA_WITH_AES_256_CBC_SHA" },
	{ 0xC021, "TLS_SRP_SHA_RSA_WITH_AES_256_CBC_SHA" },
	{ 0xC022, "TLS_SRP_SHA_DSS_WITH_AES_256_CBC_SHA" },
	{ 0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256" },
	{ 0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384" },
	{ 0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256" },
	{ 0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384" },
	{ 0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" },
	{ 0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" },
	{ 0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" },
	{ 0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" },
	{ 0xC035, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA" },
	{ 0xC036, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA" },
	{ 0xC037, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256" },
	{ 0xC038, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384" },
	{ 0xC039, "TLS_ECDHE_PSK_WITH_NULL_SHA" },
	{ 0xC03A, "TLS_ECDHE_PSK_WITH_NULL_SHA256" },
	{ 0xC03B, "TLS_ECDHE_PSK_WITH_NULL_SHA384" },
	{ 0xC050, "TLS_RSA_WITH_ARIA_128_GCM_SHA256" },
	{ 0xC051, "TLS_RSA_WITH_ARIA_256_GCM_SHA384" },
	{ 0xC052, "TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256" },
	{ 0xC053, "TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384" },
	{ 0xC056, "TLS_DHE_DSS_WITH_ARIA_128_GCM_SHA256" },
	{ 0xC057, "TLS_DHE_DSS_WITH_ARIA_256_GCM_SHA384" },
	{ 0xC05C, "TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256" },
	{ 0xC05D, "TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384" },
	{ 0xC060, "TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256" },
	{ 0xC061, "TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384" },
	{ 0xC06A, "TLS_PSK_WITH_ARIA_128_GCM_SHA256" },
	{ 0xC06B, "TLS_PSK_WITH_ARIA_256_GCM_SHA384" },
	{ 0xC06C, "TLS_DHE_PSK_WITH_ARIA_128_GCM_SHA256" },
	{ 0xC06D, "TLS_DHE_PSK_WITH_ARIA_256_GCM_SHA384" },
	{ 0xC06E, "TLS_RSA_PSK_WITH_ARIA_128_GCM_SHA256" },
	{ 0xC06F, "TLS_RSA_PSK_WITH_ARIA_256_GCM_SHA384" },
	{ 0xC072, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256" },
	{ 0xC073, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384" },
	{ 0xC076, "TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256" },
	{ 0xC077, "TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384" },
	{ 0xC094, "TLS_PSK_WITH_CAMELLIA_128_CBC_SHA256" },
	{ 0xC095, "TLS_PSK_WITH_CAMELLIA_256_CBC_SHA384" },
	{ 0xC096, "TLS_DHE_PSK_WITH_CAMELLIA_128_CBC_SHA256" },
	{ 0xC097, "TLS_DHE_PSK_WITH_CAMELLIA_256_CBC_SHA384" },
	{ 0xC098, "TLS_RSA_PSK_WITH_CAMELLIA_128_CBC_SHA256" },
	{ 0xC099, "TLS_RSA_PSK_WITH_CAMELLIA_256_CBC_SHA384" },
	{ 0xC09A, "TLS_ECDHE_PSK_WITH_CAMELLIA_128_CBC_SHA256" },
	{ 0xC09B, "TLS_ECDHE_PSK_WITH_CAMELLIA_256_CBC_SHA384" },
	{ 0xC09C, "TLS_RSA_WITH_AES_128_CCM" },
	{ 0xC09D, "TLS_RSA_WITH_AES_256_CCM" },
	{ 0xC09E, "TLS_DHE_RSA_WITH_AES_128_CCM" },
	{ 0xC09F, "TLS_DHE_RSA_WITH_AES_256_CCM" },
	{ 0xC0A0, "TLS_RSA_WITH_AES_128_CCM_8" },
	{ 0xC0A1, "TLS_RSA_WITH_AES_256_CCM_8" },
	{ 0xC0A2, "TLS_DHE_RSA_WITH_AES_128_CCM_8" },
	{ 0xC0A3, "TLS_DHE_RSA_WITH_AES_256_CCM_8" },
	{ 0xC0A4, "TLS_PSK_WITH_AES_128_CCM" },
	{ 0xC0A5, "TLS_PSK_WITH_AES_256_CCM" },
	{ 0xC0A6, "TLS_DHE_PSK_WITH_AES_128_CCM" },
	{ 0xC0A7, "TLS_DHE_PSK_WITH_AES_256_CCM" },
	{ 0xC0A8, "TLS_PSK_WITH_AES_128_CCM_8" },
	{ 0xC0A9, "TLS_PSK_WITH_AES_256_CCM_8" },
	{ 0xC0AA, "TLS_PSK_DHE_WITH_AES_128_CCM_8" },
	{ 0xC0AB, "TLS_PSK_DHE_WITH_AES_256_CCM_8" },
	{ 0xC0AC, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM" },
	{ 0xC0AD, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM" },
	{ 0xC0AE, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8" },
	{ 0xC0AF, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8" },
	{ 0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0xCCAB, "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0xCCAC, "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0xCCAD, "TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0xCCAE, "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256" },
};

const char *
dissect_suite_name(unsigned id)
{
	size_t i;

	if ((id & 0x0f0f) == 0x0a0a && (id >> 8) == (id & 0xff))
		return "GREASE";	/* RFC 8701: random values that keep servers tolerant */
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (suites[i].id == id)
			return suites[i].name;
	return NULL;
}

const char *
dissect_group_name(unsigned id)
{
	if ((id & 0x0f0f) == 0x0a0a && (id >> 8) == (id & 0xff))
		return "GREASE";
	switch (id) {
	case 0x11ec: return "X25519MLKEM768";
	case 0x11eb: return "SecP256r1MLKEM768";
	case 0x11ed: return "SecP384r1MLKEM1024";
	case 0x0200: return "MLKEM512";
	case 0x0201: return "MLKEM768";
	case 0x0202: return "MLKEM1024";
	case 0x6399: return "X25519Kyber768Draft00";
	case 0x0017: return "P-256";
	case 0x0018: return "P-384";
	case 0x0019: return "P-521";
	case 0x001d: return "X25519";
	case 0x001e: return "X448";
	case 0x001a: return "brainpoolP256r1";
	case 0x001b: return "brainpoolP384r1";
	case 0x001c: return "brainpoolP512r1";
	case 0x0100: return "ffdhe2048";
	case 0x0101: return "ffdhe3072";
	case 0x0102: return "ffdhe4096";
	case 0x0103: return "ffdhe6144";
	case 0x0104: return "ffdhe8192";
	default:     return NULL;
	}
}

const char *
dissect_ext_name(unsigned id)
{
	if ((id & 0x0f0f) == 0x0a0a && (id >> 8) == (id & 0xff))
		return "GREASE";
	switch (id) {
	case 0:     return "server_name";
	case 1:     return "max_fragment_length";
	case 5:     return "status_request";
	case 10:    return "supported_groups";
	case 11:    return "ec_point_formats";
	case 13:    return "signature_algorithms";
	case 14:    return "use_srtp";
	case 15:    return "heartbeat";
	case 16:    return "application_layer_protocol_negotiation";
	case 17:    return "status_request_v2";
	case 18:    return "signed_certificate_timestamp";
	case 19:    return "client_certificate_type";
	case 20:    return "server_certificate_type";
	case 21:    return "padding";
	case 22:    return "encrypt_then_mac";
	case 23:    return "extended_master_secret";
	case 27:    return "compress_certificate";
	case 28:    return "record_size_limit";
	case 34:    return "delegated_credentials";
	case 35:    return "session_ticket";
	case 41:    return "pre_shared_key";
	case 42:    return "early_data";
	case 43:    return "supported_versions";
	case 44:    return "cookie";
	case 45:    return "psk_key_exchange_modes";
	case 47:    return "certificate_authorities";
	case 48:    return "oid_filters";
	case 49:    return "post_handshake_auth";
	case 50:    return "signature_algorithms_cert";
	case 51:    return "key_share";
	case 57:    return "quic_transport_parameters";
	case 13172: return "next_protocol_negotiation";
	case 17513: return "application_settings";
	case 17613: return "application_settings";
	case 65037: return "encrypted_client_hello";
	case 65281: return "renegotiation_info";
	default:    return NULL;
	}
}

const char *
dissect_sigalg_name(unsigned id)
{
	if ((id & 0x0f0f) == 0x0a0a && (id >> 8) == (id & 0xff))
		return "GREASE";
	switch (id) {
	case 0x0201: return "rsa_pkcs1_sha1";
	case 0x0203: return "ecdsa_sha1";
	case 0x0202: return "dsa_sha1";
	case 0x0301: return "rsa_pkcs1_sha224";
	case 0x0302: return "dsa_sha224";
	case 0x0303: return "ecdsa_sha224";
	case 0x0401: return "rsa_pkcs1_sha256";
	case 0x0402: return "dsa_sha256";
	case 0x0403: return "ecdsa_secp256r1_sha256";
	case 0x0501: return "rsa_pkcs1_sha384";
	case 0x0502: return "dsa_sha384";
	case 0x0503: return "ecdsa_secp384r1_sha384";
	case 0x0601: return "rsa_pkcs1_sha512";
	case 0x0602: return "dsa_sha512";
	case 0x0603: return "ecdsa_secp521r1_sha512";
	case 0x0804: return "rsa_pss_rsae_sha256";
	case 0x0805: return "rsa_pss_rsae_sha384";
	case 0x0806: return "rsa_pss_rsae_sha512";
	case 0x0807: return "ed25519";
	case 0x0808: return "ed448";
	case 0x0809: return "rsa_pss_pss_sha256";
	case 0x080a: return "rsa_pss_pss_sha384";
	case 0x080b: return "rsa_pss_pss_sha512";
	case 0x081a: return "ecdsa_brainpoolP256r1tls13_sha256";
	case 0x081b: return "ecdsa_brainpoolP384r1tls13_sha384";
	case 0x081c: return "ecdsa_brainpoolP512r1tls13_sha512";
	default:     return NULL;
	}
}

const char *
dissect_version_name(unsigned v)
{
	if ((v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff))
		return "GREASE";
	switch (v) {
	case 0x0300: return "SSL 3.0";
	case 0x0301: return "TLS 1.0";
	case 0x0302: return "TLS 1.1";
	case 0x0303: return "TLS 1.2";
	case 0x0304: return "TLS 1.3";
	default:     return NULL;
	}
}
