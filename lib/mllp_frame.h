/*
 * mllp_frame.h - MLLP framing: an incremental decoder and the wrapper.
 *
 * MLLP carries HL7 v2 over TCP as 0x0B <message> 0x1C 0x0D.  The decoder
 * is pure: the caller feeds it whatever bytes arrived and it says when a
 * whole frame is ready; it owns a buffer for the frame being assembled.  It
 * never reads a socket and knows nothing of HL7 (see hl7.h).
 */
#ifndef CB_MLLP_FRAME_H
#define CB_MLLP_FRAME_H

#include <stddef.h>

#define MLLP_START 0x0B /* vertical tab: starts a frame */
#define MLLP_END 0x1C   /* file separator: ends a frame, followed by MLLP_CR */
#define MLLP_CR 0x0D    /* carriage return after MLLP_END */

enum mllp_result {
	MLLP_NEED_MORE, /* every byte was consumed; no frame yet */
	MLLP_FRAME,     /* a frame is ready: mllp_decoder_frame(), then mllp_decoder_next() */
	MLLP_ERROR,     /* the stream is broken: close the connection */
};

enum mllp_state {
	MLLP_S_IDLE,  /* between frames: whitespace allowed, waiting for MLLP_START */
	MLLP_S_BODY,  /* inside a frame */
	MLLP_S_END,   /* saw MLLP_END, waiting for MLLP_CR */
	MLLP_S_FRAME, /* a whole frame is in buf, not yet dropped */
	MLLP_S_ERROR, /* broken until mllp_decoder_reset() */
};

struct mllp_decoder {
	enum mllp_state state; /* where the byte stream is */
	char *buf;             /* the frame's content so far, NUL-terminated; owned */
	size_t len;            /* bytes of content in buf */
	size_t cap;            /* bytes allocated for buf */
	size_t max_frame;      /* largest content accepted, in bytes */
};

/* Set d up to accept frames of at most max_frame content bytes (> 0). */
void mllp_decoder_init(struct mllp_decoder *d, size_t max_frame);

/*
 * Forget any partial frame or error and free d's buffer; d can be fed again
 * (with the same max_frame) or dropped.  Call it once d is no longer needed.
 */
void mllp_decoder_reset(struct mllp_decoder *d);

/*
 * Feed len bytes of the stream.  *consumed is set to how many bytes were
 * used: all of them for MLLP_NEED_MORE, up to and including the frame's
 * final 0x0D for MLLP_FRAME (feed data + *consumed again after
 * mllp_decoder_next()), and up to the offending byte for MLLP_ERROR.
 * MLLP_ERROR means a byte outside a frame that is not whitespace (space,
 * tab, CR, LF), 0x0B inside a frame, 0x1C not followed by 0x0D, or content
 * over max_frame; d stays in error (returning MLLP_ERROR, consuming nothing)
 * until reset.  Must not be called while a frame is pending.
 */
enum mllp_result mllp_decoder_feed(struct mllp_decoder *d, const char *data, size_t len,
                                   size_t *consumed);

/*
 * The pending frame's content (between 0x0B and 0x1C 0x0D) and its length.
 * It is NUL-terminated for convenience but may itself contain NUL bytes;
 * borrowed from d until mllp_decoder_next() or mllp_decoder_reset().
 */
const char *mllp_decoder_frame(const struct mllp_decoder *d, size_t *len);

/* Drop the pending frame so that feeding can continue. */
void mllp_decoder_next(struct mllp_decoder *d);

/*
 * A new buffer holding 0x0B msg[0..len) 0x1C 0x0D (plus a NUL not counted
 * in *out_len); the caller frees it.
 */
char *mllp_frame_wrap(const char *msg, size_t len, size_t *out_len);

#endif
