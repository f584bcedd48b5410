/*
 * totp.c - RFC 6238 codes and base32 (see totp.h).
 */
#include "totp.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

uint32_t totp_code(const unsigned char *key, size_t len, uint64_t step, int digits)
{
	unsigned char msg[8], mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	uint32_t bin, mod = 1;
	int off;

	for (int i = 7; i >= 0; i--, step >>= 8)
		msg[i] = (unsigned char)(step & 0xff);
	HMAC(EVP_sha1(), key, (int)len, msg, sizeof msg, mac, &mac_len);
	off = mac[mac_len - 1] & 0x0f;
	bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
	      ((uint32_t)mac[off + 2] << 8) | (uint32_t)mac[off + 3];
	for (int i = 0; i < digits; i++)
		mod *= 10;
	return bin % mod;
}

enum status totp_verify(const unsigned char *key, size_t len, const char *code, int64_t now,
                        int64_t last_step, int64_t *used, struct err *err)
{
	int64_t step = now / TOTP_STEP_S;
	char want[TOTP_DIGITS + 1];
	bool found = false;

	if (code == NULL || strlen(code) != TOTP_DIGITS ||
	    strspn(code, "0123456789") != TOTP_DIGITS)
		return err_set(err, ST_UNAUTHORIZED, "totp",
		               "\"totp\" must be the %d-digit code from the authenticator app",
		               TOTP_DIGITS);
	/* every candidate is computed and compared in constant time: no early exit */
	for (int64_t s = step - TOTP_WINDOW; s <= step + TOTP_WINDOW; s++) {
		snprintf(want, sizeof want, "%0*u", TOTP_DIGITS,
		         totp_code(key, len, (uint64_t)s, TOTP_DIGITS));
		if (sodium_memcmp(want, code, TOTP_DIGITS) == 0 && s > last_step && !found) {
			*used = s;
			found = true;
		}
	}
	if (!found)
		return err_set(err, ST_UNAUTHORIZED, "totp",
		               "the one-time code is wrong or was already used");
	return ST_OK;
}

bool base32_encode(const unsigned char *in, size_t len, char *out, size_t size)
{
	size_t o = 0;
	unsigned buf = 0;
	int bits = 0;

	for (size_t i = 0; i < len; i++) {
		buf = (buf << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			if (o + 1 >= size)
				return false;
			out[o++] = B32[(buf >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0) {
		if (o + 1 >= size)
			return false;
		out[o++] = B32[(buf << (5 - bits)) & 31];
	}
	out[o] = '\0';
	return true;
}

int base32_decode(const char *in, unsigned char *out, size_t size)
{
	size_t o = 0;
	unsigned buf = 0;
	int bits = 0;

	for (const char *p = in; *p != '\0'; p++) {
		char c = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
		const char *at = c != '\0' ? strchr(B32, c) : NULL;

		if (at == NULL)
			return -1;
		buf = (buf << 5) | (unsigned)(at - B32);
		bits += 5;
		if (bits >= 8) {
			if (o >= size)
				return -1;
			out[o++] = (unsigned char)((buf >> (bits - 8)) & 0xff);
			bits -= 8;
		}
	}
	return (int)o;
}
