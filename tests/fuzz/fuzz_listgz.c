// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* libFuzzer target: fuzz_listfmt.c's checks plus mxg_list_read from a memfd,
 * so the zlib path sees fuzzed gzip streams and plain files read through it. */
#define FUZZ_LIST_READ 1
#include "fuzz_listfmt.c"
