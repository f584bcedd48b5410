/*
 * mllp_frame_test.c - unit tests for lib/mllp_frame.c: frames whole, split
 * at every byte, several per feed, whitespace between them, every error, and
 * the wrapper.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mllp_frame.h"
#include "xmalloc.h"

#define MSG1 "MSH|^~\\&|PAS|RXH|CB|RXH|20261123103000||ADT^A01|1|P|2.5\rPID|1\r"
#define MSG2 "MSH|^~\\&|PAS|RXH|CB|RXH|20261123103001||ADT^A03|2|P|2.5\rPID|2\r"

/* Two frames with whitespace before, between and after, as a peer may send them. */
static const char STREAM[] = "\r\n\x0b" MSG1 "\x1c\r\n \t\x0b" MSG2 "\x1c\r\n";

/* What feeding produced: up to 4 frames. */
struct collected {
	char *frames[4]; /* owned copies */
	size_t lens[4];
	int n;
	enum mllp_result last; /* NEED_MORE or ERROR */
};

/*
 * Feed data to d in one call per chunk (the caller's protocol: after
 * MLLP_FRAME take the frame, call next, feed the rest), collecting frames.
 */
static void feed_chunk(struct mllp_decoder *d, const char *data, size_t len, struct collected *c)
{
	size_t used;
	enum mllp_result r;

	for (;;) {
		r = mllp_decoder_feed(d, data, len, &used);
		assert_true(used <= len);
		if (r != MLLP_FRAME)
			break;
		assert_true(c->n < 4);
		{
			size_t flen;
			const char *f = mllp_decoder_frame(d, &flen);

			assert_int_equal(f[flen], '\0');
			c->frames[c->n] = xmalloc(flen + 1);
			memcpy(c->frames[c->n], f, flen + 1);
			c->lens[c->n++] = flen;
		}
		mllp_decoder_next(d);
		data += used;
		len -= used;
	}
	if (r == MLLP_NEED_MORE)
		assert_int_equal(used, len);
	c->last = r;
}

static void collected_free(struct collected *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->frames[i]);
	memset(c, 0, sizeof *c);
}

static void assert_two_frames(const struct collected *c)
{
	assert_int_equal(c->last, MLLP_NEED_MORE);
	assert_int_equal(c->n, 2);
	assert_int_equal(c->lens[0], strlen(MSG1));
	assert_string_equal(c->frames[0], MSG1);
	assert_int_equal(c->lens[1], strlen(MSG2));
	assert_string_equal(c->frames[1], MSG2);
}

static void test_whole_stream(void **state)
{
	struct mllp_decoder d;
	struct collected c = {0};

	mllp_decoder_init(&d, 4096);
	feed_chunk(&d, STREAM, sizeof STREAM - 1, &c);
	assert_two_frames(&c);
	collected_free(&c);
	mllp_decoder_reset(&d);
}

/* Every split point of the two-frame stream into two feeds, then three feeds. */
static void test_every_split(void **state)
{
	size_t len = sizeof STREAM - 1;

	for (size_t i = 0; i <= len; i++) {
		struct mllp_decoder d;
		struct collected c = {0};

		mllp_decoder_init(&d, 4096);
		feed_chunk(&d, STREAM, i, &c);
		assert_int_equal(c.last, MLLP_NEED_MORE);
		feed_chunk(&d, STREAM + i, len - i, &c);
		assert_two_frames(&c);
		collected_free(&c);
		mllp_decoder_reset(&d);
	}
	for (size_t i = 0; i <= len; i += 7) {
		for (size_t j = i; j <= len; j++) {
			struct mllp_decoder d;
			struct collected c = {0};

			mllp_decoder_init(&d, 4096);
			feed_chunk(&d, STREAM, i, &c);
			feed_chunk(&d, STREAM + i, j - i, &c);
			feed_chunk(&d, STREAM + j, len - j, &c);
			assert_two_frames(&c);
			collected_free(&c);
			mllp_decoder_reset(&d);
		}
	}
}

static void test_byte_at_a_time(void **state)
{
	struct mllp_decoder d;
	struct collected c = {0};

	mllp_decoder_init(&d, 4096);
	for (size_t i = 0; i < sizeof STREAM - 1; i++)
		feed_chunk(&d, STREAM + i, 1, &c);
	assert_two_frames(&c);
	collected_free(&c);
	/* Zero-length feeds change nothing. */
	feed_chunk(&d, STREAM, 0, &c);
	assert_int_equal(c.n, 0);
	assert_int_equal(c.last, MLLP_NEED_MORE);
	mllp_decoder_reset(&d);
}

static void test_consumed_stops_after_frame(void **state)
{
	struct mllp_decoder d;
	size_t used, flen;
	const char *f;

	mllp_decoder_init(&d, 4096);
	assert_int_equal(mllp_decoder_feed(&d, STREAM, sizeof STREAM - 1, &used), MLLP_FRAME);
	assert_int_equal(used, 3 + strlen(MSG1) + 2); /* "\r\n\v" MSG1 "\x1c\r" */
	f = mllp_decoder_frame(&d, &flen);
	assert_int_equal(flen, strlen(MSG1));
	assert_memory_equal(f, MSG1, flen);
	mllp_decoder_next(&d);
	mllp_decoder_reset(&d);
}

struct error_case {
	const char *data;
	size_t len;
	size_t max_frame;
	size_t consumed; /* up to the offending byte */
	int frames;      /* whole frames before the error */
};

#define EC(s, max, consumed, frames)                                                               \
	{                                                                                          \
		s, sizeof(s) - 1, max, consumed, frames                                            \
	}

static const struct error_case error_cases[] = {
    EC("x", 100, 0, 0),         /* garbage before a frame */
    EC("\r\n MSH|", 100, 3, 0), /* a message without framing */
    EC("\x0b"
       "abc\x1c"
       "x",
       100, 5, 0), /* 0x1C not followed by 0x0D */
    EC("\x0b"
       "abc\x1c\x1c\r",
       100, 5, 0), /* 0x1C 0x1C */
    EC("\x0b"
       "ab\x0b"
       "c\x1c\r",
       100, 3, 0), /* 0x0B inside a frame */
    EC("\x0b"
       "abcde\x1c\r",
       4, 5, 0), /* one byte over max_frame */
    EC("\x0b"
       "ab\x1c\r"
       "zz",
       100, 5, 1),           /* garbage after a good frame */
    EC("\x1c\r", 100, 0, 0), /* an end without a start */
};

static void test_errors(void **state)
{
	for (size_t i = 0; i < nitems(error_cases); i++) {
		const struct error_case *e = &error_cases[i];
		struct mllp_decoder d;
		struct collected c = {0};
		size_t used, total = 0;
		enum mllp_result r;

		mllp_decoder_init(&d, e->max_frame);
		while ((r = mllp_decoder_feed(&d, e->data + total, e->len - total, &used)) ==
		       MLLP_FRAME) {
			c.n++;
			mllp_decoder_next(&d);
			total += used;
		}
		total += used;
		if (r != MLLP_ERROR || total != e->consumed || c.n != e->frames)
			fail_msg("case %zu: result %d, consumed %zu, frames %d", i, r, total, c.n);
		/* The error sticks until reset. */
		assert_int_equal(mllp_decoder_feed(&d,
		                                   "\x0b"
		                                   "a\x1c\r",
		                                   4, &used),
		                 MLLP_ERROR);
		assert_int_equal(used, 0);
		mllp_decoder_reset(&d);
		/* ... and after it the decoder works again. */
		c.n = 0;
		feed_chunk(&d, STREAM, sizeof STREAM - 1, &c);
		if (e->max_frame >= strlen(MSG1))
			assert_two_frames(&c);
		else
			assert_int_equal(c.last, MLLP_ERROR);
		collected_free(&c);
		mllp_decoder_reset(&d);
	}
}

static void test_max_frame_exact(void **state)
{
	struct mllp_decoder d;
	struct collected c = {0};

	mllp_decoder_init(&d, 4);
	feed_chunk(&d,
	           "\x0b"
	           "abcd\x1c\r",
	           7, &c);
	assert_int_equal(c.last, MLLP_NEED_MORE);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.frames[0], "abcd");
	collected_free(&c);
	mllp_decoder_reset(&d);
}

static void test_empty_frame(void **state)
{
	struct mllp_decoder d;
	struct collected c = {0};

	mllp_decoder_init(&d, 16);
	feed_chunk(&d, "\x0b\x1c\r\x0b\x1c\r", 6, &c);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.lens[0], 0);
	assert_string_equal(c.frames[0], "");
	collected_free(&c);
	mllp_decoder_reset(&d);
	mllp_decoder_reset(&d); /* resetting twice is harmless */
}

static void test_wrap(void **state)
{
	static const struct {
		const char *msg;
		size_t len;
	} cases[] = {{"", 0}, {"a", 1}, {MSG1, sizeof MSG1 - 1}, {"a\0b", 3}};

	for (size_t i = 0; i < nitems(cases); i++) {
		size_t len, used, flen;
		char *w = mllp_frame_wrap(cases[i].msg, cases[i].len, &len);
		struct mllp_decoder d;
		const char *f;

		assert_int_equal(len, cases[i].len + 3);
		assert_int_equal(w[0], 0x0b);
		assert_memory_equal(w + 1, cases[i].msg, cases[i].len);
		assert_int_equal(w[len - 2], 0x1c);
		assert_int_equal(w[len - 1], 0x0d);
		assert_int_equal(w[len], '\0');

		mllp_decoder_init(&d, 1024);
		assert_int_equal(mllp_decoder_feed(&d, w, len, &used), MLLP_FRAME);
		assert_int_equal(used, len);
		f = mllp_decoder_frame(&d, &flen);
		assert_int_equal(flen, cases[i].len);
		assert_memory_equal(f, cases[i].msg, flen);
		mllp_decoder_next(&d);
		mllp_decoder_reset(&d);
		free(w);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_whole_stream),
	    cmocka_unit_test(test_every_split),
	    cmocka_unit_test(test_byte_at_a_time),
	    cmocka_unit_test(test_consumed_stops_after_frame),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_max_frame_exact),
	    cmocka_unit_test(test_empty_frame),
	    cmocka_unit_test(test_wrap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
