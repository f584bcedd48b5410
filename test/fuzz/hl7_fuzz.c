/*
 * hl7_fuzz.c - libFuzzer target for lib/hl7.c and lib/mllp_frame.c.
 *
 * Each input is parsed as an HL7 message, turned into an ADT record and
 * acknowledged; the ACK must parse again and give back what was put in it
 * (text, codes, ids), whatever the input's delimiters.  The same bytes are
 * then fed to the MLLP decoder in two pieces split at a point taken from the
 * input, and wrapped-then-decoded, which must give back the input.  Any
 * broken property aborts, which libFuzzer reports as a crash.  Built and run
 * by scripts/fuzz only; not part of the unit tests.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hl7.h"
#include "mllp_frame.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of data, cut at the first NUL and at max bytes. */
static char *cstring_from(const uint8_t *data, size_t size, size_t max)
{
	size_t n = 0;

	while (n < size && n < max && data[n] != 0)
		n++;
	return xstrndup((const char *)data, n);
}

static void check_ack(const struct hl7_msg *in, const char *code, const char *text)
{
	char *ack = hl7_ack_build(in, code, text, "ACK-1", "20261123104500");
	struct err err;
	struct hl7_msg *m = hl7_parse(ack, strlen(ack), &err);

	if (m == NULL) {
		fprintf(stderr, "ACK does not parse: %s\n", err.message);
		abort();
	}
	ASSERT(strcmp(hl7_get(m, "MSA", 0, 1, 0, 1, 1), code) == 0);
	ASSERT(strcmp(hl7_get(m, "MSA", 0, 3, 0, 1, 1), text) == 0);
	ASSERT(strcmp(hl7_get(m, "MSH", 0, 10, 0, 1, 1), "ACK-1") == 0);
	ASSERT(hl7_count(m, "ERR") == (strcmp(code, "AA") == 0 ? 0 : 1));
	if (strcmp(code, "AA") != 0)
		ASSERT(strcmp(hl7_get(m, "ERR", 0, 8, 0, 1, 1), text) == 0);
	if (in != NULL) {
		ASSERT(strcmp(hl7_get(m, "MSA", 0, 2, 0, 1, 1),
		              hl7_get(in, "MSH", 0, 10, 0, 1, 1)) == 0);
		ASSERT(strcmp(hl7_get(m, "MSH", 0, 3, 0, 1, 1),
		              hl7_get(in, "MSH", 0, 5, 0, 1, 1)) == 0);
		ASSERT(strcmp(hl7_get(m, "MSH", 0, 6, 0, 2, 1),
		              hl7_get(in, "MSH", 0, 4, 0, 2, 1)) == 0);
		ASSERT(strcmp(hl7_get(m, "MSH", 0, 2, 0, 1, 1),
		              hl7_get(in, "MSH", 0, 2, 0, 1, 1)) == 0);
		ASSERT(strcmp(hl7_get(m, "MSH", 0, 1, 0, 1, 1),
		              hl7_get(in, "MSH", 0, 1, 0, 1, 1)) == 0);
		ASSERT(strlen(hl7_get(in, "MSH", 0, 1, 0, 1, 1)) == 1);
	}
	hl7_msg_free(m);
	free(ack);
}

static void check_mllp(const uint8_t *data, size_t size)
{
	struct mllp_decoder d;
	size_t split = size > 0 ? data[size - 1] % (size + 1) : 0;
	const char *chunks[2] = {(const char *)data, (const char *)data + split};
	size_t lens[2] = {split, size - split};
	size_t wrapped_len, flen, used;
	char *wrapped;
	const char *frame;

	mllp_decoder_init(&d, 4096);
	for (int c = 0; c < 2; c++) {
		const char *p = chunks[c];
		size_t left = lens[c];
		enum mllp_result r;

		while ((r = mllp_decoder_feed(&d, p, left, &used)) == MLLP_FRAME) {
			frame = mllp_decoder_frame(&d, &flen);
			ASSERT(flen <= 4096 && frame[flen] == '\0');
			ASSERT(used <= left);
			p += used;
			left -= used;
			mllp_decoder_next(&d);
		}
		ASSERT(used <= left);
		if (r == MLLP_ERROR)
			break;
		ASSERT(used == left);
	}
	mllp_decoder_reset(&d);

	/* Wrapping then decoding gives the input back when it holds no framing byte. */
	mllp_decoder_init(&d, size + 1);
	if (memchr(data, MLLP_START, size) == NULL && memchr(data, MLLP_END, size) == NULL) {
		wrapped = mllp_frame_wrap((const char *)data, size, &wrapped_len);
		ASSERT(mllp_decoder_feed(&d, wrapped, wrapped_len, &used) == MLLP_FRAME);
		ASSERT(used == wrapped_len);
		frame = mllp_decoder_frame(&d, &flen);
		ASSERT(flen == size && (size == 0 || memcmp(frame, data, size) == 0));
		mllp_decoder_next(&d);
		free(wrapped);
	}
	mllp_decoder_reset(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err err;
	struct hl7_msg *m = hl7_parse((const char *)data, size, &err);
	char *text = cstring_from(data, size, 80);
	struct hl7_ts ts;

	if (m != NULL) {
		struct hl7_adt adt;

		(void)hl7_adt_from_msg(m, &adt, &err);
		for (int i = 0; i < hl7_count(m, "PID"); i++)
			(void)hl7_reps(m, "PID", i, 3);
	}
	check_ack(m, "AA", text);
	check_ack(m, "AE", text);
	check_ack(m, "AR", text);
	(void)hl7_ts_parse(text, &ts, &err);
	hl7_msg_free(m);
	free(text);
	check_mllp(data, size);
	return 0;
}
