// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Counters behind tests/lib/check.h. */
#include "check.h"

int check_failed;
int check_passed;
const char *check_filter;

void check_cases(const struct check_case *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (CHECK_SELECTED(cases[i].name))
			cases[i].fn(cases[i].name);
}
