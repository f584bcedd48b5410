/*
 * utf8.c - strict UTF-8 checking (see utf8.h).
 *
 * The ranges are those of Unicode Table 3-7 ("Well-Formed UTF-8 Byte
 * Sequences"): the second byte's range depends on the first, which is what
 * rules out overlong forms, surrogates and code points above U+10FFFF.
 */
#include "utf8.h"

size_t utf8_seq_len(const char *s, size_t left)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */
	size_t n;

	if (left == 0)
		return 0;
	if (p[0] < 0x80)
		return 1;
	if (p[0] < 0xc2) /* a continuation byte, or C0/C1 (overlong 2-byte) */
		return 0;
	if (p[0] < 0xe0) {
		n = 2;
	} else if (p[0] < 0xf0) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0; /* below is an overlong 3-byte form */
		else if (p[0] == 0xed)
			hi = 0x9f; /* above is a UTF-16 surrogate */
	} else if (p[0] < 0xf5) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90; /* below is an overlong 4-byte form */
		else if (p[0] == 0xf4)
			hi = 0x8f; /* above is beyond U+10FFFF */
	} else {
		return 0; /* F5..FF: beyond U+10FFFF, 5- and 6-byte forms, FE, FF */
	}
	if (left < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

bool utf8_is_valid(const char *s, size_t len, size_t *bad)
{
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_seq_len(s + i, len - i);

		if (n == 0) {
			if (bad != NULL)
				*bad = i;
			return false;
		}
		i += n;
	}
	return true;
}
