/*
 * clock.h - the monotonic clock, for timeouts, intervals and latencies.
 *
 * Never shifted by the test clock and never jumps: use it for "how long",
 * and app_now() (app.h) for "when".
 */
#ifndef CB_CLOCK_H
#define CB_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in whole seconds, milliseconds and microseconds. */
int64_t mono_s(void);
int64_t mono_ms(void);
int64_t mono_us(void);

#endif
