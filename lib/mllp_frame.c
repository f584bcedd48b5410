/*
 * mllp_frame.c - MLLP framing: an incremental decoder and the wrapper.
 *
 * The decoder is a byte-at-a-time state machine over enum mllp_state that
 * copies frame content into a buffer it owns, growing it up to max_frame.
 * Strict by design: anything but whitespace between frames is an error,
 * since resynchronising on garbage would hide a confused peer.  No I/O.
 */
#include "mllp_frame.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

void mllp_decoder_init(struct mllp_decoder *d, size_t max_frame)
{
	ASSERT(d != NULL && max_frame > 0);
	memset(d, 0, sizeof *d);
	d->state = MLLP_S_IDLE;
	d->max_frame = max_frame;
}

void mllp_decoder_reset(struct mllp_decoder *d)
{
	size_t max_frame = d->max_frame;

	free(d->buf);
	mllp_decoder_init(d, max_frame);
}

/* Append c to the frame's content; false if that would exceed max_frame. */
static bool decoder_append(struct mllp_decoder *d, char c)
{
	if (d->len == d->max_frame)
		return false;
	if (d->len + 2 > d->cap) {
		size_t cap = d->cap == 0 ? 4096 : d->cap * 2;

		if (cap > d->max_frame + 1)
			cap = d->max_frame + 1;
		d->buf = xrealloc(d->buf, cap);
		d->cap = cap;
	}
	d->buf[d->len++] = c;
	return true;
}

enum mllp_result mllp_decoder_feed(struct mllp_decoder *d, const char *data, size_t len,
                                   size_t *consumed)
{
	size_t i;

	ASSERT(d->state != MLLP_S_FRAME);
	*consumed = 0;
	if (d->state == MLLP_S_ERROR)
		return MLLP_ERROR;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];

		switch (d->state) {
		case MLLP_S_IDLE:
			if (c == MLLP_START) {
				d->len = 0;
				d->state = MLLP_S_BODY;
			} else if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
				goto error;
			}
			break;
		case MLLP_S_BODY:
			if (c == MLLP_END)
				d->state = MLLP_S_END;
			else if (c == MLLP_START || !decoder_append(d, (char)c))
				goto error;
			break;
		case MLLP_S_END:
			if (c != MLLP_CR)
				goto error;
			/* Keep the content NUL-terminated (and buf non-NULL for empty frames). */
			if (d->len + 1 > d->cap) {
				d->cap = d->len + 1;
				d->buf = xrealloc(d->buf, d->cap);
			}
			d->buf[d->len] = '\0';
			d->state = MLLP_S_FRAME;
			*consumed = i + 1;
			return MLLP_FRAME;
		case MLLP_S_FRAME:
		case MLLP_S_ERROR:
			ASSERT(!"unreachable decoder state");
		}
	}
	*consumed = len;
	return MLLP_NEED_MORE;
error:
	d->state = MLLP_S_ERROR;
	*consumed = i;
	return MLLP_ERROR;
}

const char *mllp_decoder_frame(const struct mllp_decoder *d, size_t *len)
{
	ASSERT(d->state == MLLP_S_FRAME);
	*len = d->len;
	return d->buf;
}

void mllp_decoder_next(struct mllp_decoder *d)
{
	ASSERT(d->state == MLLP_S_FRAME);
	d->len = 0;
	d->state = MLLP_S_IDLE;
}

char *mllp_frame_wrap(const char *msg, size_t len, size_t *out_len)
{
	char *out = xmalloc(len + 4);

	out[0] = MLLP_START;
	if (len > 0)
		memcpy(out + 1, msg, len);
	out[len + 1] = MLLP_END;
	out[len + 2] = MLLP_CR;
	out[len + 3] = '\0';
	*out_len = len + 3;
	return out;
}
