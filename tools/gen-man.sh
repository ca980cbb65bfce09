#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Writes mxguard(8) to stdout from the binary's own --help texts, so the man
# page can never drift from what `mxguard COMMAND --help` says.
# Usage: tools/gen-man.sh build/mxguard > mxguard.8
set -euo pipefail
bin=${1:?usage: gen-man.sh MXGUARD_BINARY}
esc() { sed -e 's/\\/\\e/g' -e 's/^\./\\\&./' -e "s/^'/\\\\\\&'/"; }
version=$("$bin" --version | awk '{print $2}')
cat <<EOT
.TH MXGUARD 8 "$(date -u +%Y-%m-%d)" "mxguard $version" "System Administration"
.SH NAME
mxguard \- XDP connection limiter, allowlist and blocklist for mail servers
.SH SYNOPSIS
.B mxguard
[\fB\-v\fR] \fICOMMAND\fR [\fIARGS\fR...]
.SH DESCRIPTION
.nf
EOT
"$bin" --help | esc
echo ".fi"
for c in $("$bin" --help | awk '/^Commands:/{f=1;next} /^$/{f=0} f{print $1}'); do
	echo ".SH COMMAND: ${c^^}"
	echo ".nf"
	"$bin" "$c" --help | esc
	echo ".fi"
done
cat <<'EOT'
.SH FILES
.TP
.I /sys/fs/bpf/mxguard
pinned program, maps and links (override with MXGUARD_PIN_DIR)
.SH SEE ALSO
.BR ip-link (8),
.BR bpftool (8)
EOT
