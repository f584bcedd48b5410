/*
 * nhs.h - the NHS number: parsing what people type and showing it as 3-3-4.
 *
 * An NHS number is ten digits whose last digit is a modulus-11 check digit.
 * This module owns that rule and nothing else: it does not know whether a
 * number has ever been issued, and it never logs one (NHS numbers identify
 * patients).
 */
#ifndef CB_NHS_H
#define CB_NHS_H

#include "status.h"

/* Digits in an NHS number, and the buffer sizes for the stored and shown forms. */
#define NHS_NUMBER_DIGITS 10
#define NHS_NUMBER_SIZE 11           /* "9434765919" and its NUL */
#define NHS_NUMBER_FORMATTED_SIZE 13 /* "943 476 5919" and its NUL */

/*
 * Parse in, which must hold exactly ten digits and otherwise only spaces (any
 * number, anywhere: "943 476 5919", "9434765919", " 9434765919 "), and check
 * its modulus-11 check digit: digits 1-9 are weighted 10 down to 2, the sum is
 * taken mod 11 and 11 - remainder must equal digit 10, where 11 stands for 0
 * and 10 means no valid check digit exists.
 *
 * On success writes the ten digits and a NUL to out and returns ST_OK.  On
 * failure out is the empty string and the result is ST_INVALID with field
 * "nhs_number".  in is borrowed and must not be NULL.
 */
enum status nhs_number_parse(const char *in, char out[NHS_NUMBER_SIZE], struct err *err);

/*
 * Write ten, which must be ten digits (as stored by nhs_number_parse), to out
 * in the 3-3-4 form people read: "943 476 5919".
 */
void nhs_number_format(const char *ten, char out[NHS_NUMBER_FORMATTED_SIZE]);

#endif
