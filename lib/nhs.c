/*
 * nhs.c - NHS number parsing, check digit and display form.
 *
 * Messages never repeat the input: an NHS number is patient-identifiable and
 * error messages end up in logs and HTTP replies.
 */
#include "nhs.h"

#include <string.h>

#include "xmalloc.h"

#define FIELD "nhs_number"

/*
 * The modulus-11 check digit for the first nine digits of d, or -1 when the
 * remainder leaves 10, which no single digit can represent.
 */
static int nhs_check_digit(const char *d)
{
	int sum = 0;
	int check;

	for (int i = 0; i < NHS_NUMBER_DIGITS - 1; i++)
		sum += (d[i] - '0') * (NHS_NUMBER_DIGITS - i);
	check = 11 - sum % 11;
	if (check == 11)
		return 0;
	if (check == 10)
		return -1;
	return check;
}

enum status nhs_number_parse(const char *in, char out[NHS_NUMBER_SIZE], struct err *err)
{
	size_t n = 0;
	int check;

	ASSERT(in != NULL);
	ASSERT(out != NULL);
	out[0] = '\0';
	for (const char *s = in; *s != '\0'; s++) {
		if (*s == ' ')
			continue;
		if (*s < '0' || *s > '9') {
			out[0] = '\0';
			return err_set(err, ST_INVALID, FIELD,
			               "nhs_number may contain only digits and spaces");
		}
		/* Keep counting past ten so the message is about length, not content. */
		if (n < NHS_NUMBER_DIGITS)
			out[n] = *s;
		n++;
	}
	if (n != NHS_NUMBER_DIGITS) {
		out[0] = '\0';
		return err_set(err, ST_INVALID, FIELD, "nhs_number must have 10 digits");
	}
	out[n] = '\0';

	check = nhs_check_digit(out);
	if (check != out[NHS_NUMBER_DIGITS - 1] - '0') {
		out[0] = '\0';
		return err_set(err, ST_INVALID, FIELD, "nhs_number check digit is wrong");
	}
	return ST_OK;
}

void nhs_number_format(const char *ten, char out[NHS_NUMBER_FORMATTED_SIZE])
{
	size_t j = 0;

	ASSERT(ten != NULL);
	ASSERT(out != NULL);
	ASSERT(strlen(ten) == NHS_NUMBER_DIGITS);
	for (size_t i = 0; i < NHS_NUMBER_DIGITS; i++) {
		ASSERT(ten[i] >= '0' && ten[i] <= '9');
		if (i == 3 || i == 6)
			out[j++] = ' ';
		out[j++] = ten[i];
	}
	out[j] = '\0';
}
