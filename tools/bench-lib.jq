# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Helpers shared by the jq programs of tools/bench.sh (include "bench-lib",
# with -L tools).

# The median of an array, nulls (a figure a run could not give) left out.
def med: map(select(. != null)) | sort | if length == 0 then null
	elif length % 2 == 1 then .[length / 2 | floor]
	else (.[length / 2 - 1] + .[length / 2]) / 2 end;
