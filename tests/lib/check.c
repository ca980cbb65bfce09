// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Counters behind tests/lib/check.h. */
#include "check.h"

int check_failed;
int check_passed;
const char *check_filter;
