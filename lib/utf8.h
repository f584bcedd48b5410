/*
 * utf8.h - strict UTF-8 checking (RFC 3629, Unicode Table 3-7).
 *
 * Well-formed means: no overlong form (C0 AF for '/'), no UTF-16 surrogate
 * (ED A0 80), nothing above U+10FFFF (F4 90 80 80), no 5- or 6-byte form and
 * no FE or FF byte, no sequence cut short.  PostgreSQL refuses all of these,
 * so text is checked once where it enters (the request body), never deeper.
 */
#ifndef CB_UTF8_H
#define CB_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The length (1..4) of the well-formed UTF-8 sequence starting at s, which
 * has left bytes; 0 when the bytes there are not well-formed UTF-8 (or left
 * is 0).  A NUL byte is a well-formed sequence of length 1.
 */
size_t utf8_seq_len(const char *s, size_t left);

/*
 * Whether s[0..len) is well-formed UTF-8; when not, *bad (may be NULL) gets
 * the offset of the first sequence at fault.
 */
bool utf8_is_valid(const char *s, size_t len, size_t *bad);

#endif
