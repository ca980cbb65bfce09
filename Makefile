# mxguard: XDP connection limiter for mail servers. One Makefile for all.
# `make deps` installs what is missing (Debian, as root); `make` builds;
# `make test` runs every test; `make demo` shows it working in namespaces.

CLANG   ?= clang
BPFTOOL ?= bpftool
CC      ?= cc
PKG_CONFIG ?= pkg-config
PREFIX  ?= /usr/local
DESTDIR ?=

BUILD ?= build
ARCH  := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

# Everything the build, the tests, the demo and the benchmarks use.
# crowdsec: its postinst registers with CrowdSec's Central API unless an
# opt-out file exists (the package's README.Debian); deps writes that file,
# since these machines have no Internet access.
DEB_PACKAGES := make gcc clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev \
	pkg-config iproute2 jq gzip libc6-dev kmod procps libinih-dev \
	libclang-rt-14-dev libjson-c-dev util-linux libcurl4-openssl-dev nftables fail2ban crowdsec

ifeq ($(V),1)
Q :=
else
Q := @
endif

LIBBPF_CFLAGS := $(shell $(PKG_CONFIG) --cflags libbpf 2>/dev/null)
LIBBPF_LIBS   := $(shell $(PKG_CONFIG) --libs libbpf 2>/dev/null || echo -lbpf)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-missing-field-initializers
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -MMD -MP \
	-I$(BUILD) -I$(BUILD)/bpf -Ibpf -Iuser -Itests/lib $(LIBBPF_CFLAGS) \
	$(shell $(PKG_CONFIG) --cflags json-c 2>/dev/null)
ifeq ($(SAN),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDSAN := -fsanitize=address,undefined
endif
LDLIBS  := $(LIBBPF_LIBS) -lelf -lz $(shell $(PKG_CONFIG) --libs inih 2>/dev/null || echo -linih) \
	$(shell $(PKG_CONFIG) --libs json-c 2>/dev/null || echo -ljson-c) \
	$(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null || echo -lcurl)

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	-Ivmlinux -Ibpf -MMD -MP

# user/: main.c and cmd_*.c make the binary; the rest is the library that
# tests link too.
USER_SRCS := $(wildcard user/*.c)
CMD_SRCS  := user/main.c $(wildcard user/cmd_*.c)
LIB_SRCS  := $(filter-out $(CMD_SRCS),$(USER_SRCS))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CMD_OBJS  := $(CMD_SRCS:%.c=$(BUILD)/%.o)
TLIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/lib/*.c))

BPF_SRCS  := $(wildcard bpf/*.bpf.c) $(wildcard tests/bpf/*.bpf.c) $(wildcard tools/*.bpf.c)
BPF_OBJS  := $(patsubst %.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS     := $(patsubst %.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))

UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(wildcard tests/unit/test_*.c))
BPFT_BINS := $(patsubst tests/bpf/%.c,$(BUILD)/tests/bpf/%,$(wildcard tests/bpf/test_*.c))
TOOL_BINS := $(patsubst tools/%.c,$(BUILD)/tools/%,$(filter-out %.bpf.c,$(wildcard tools/*.c)))

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all deps test demo bench vmlinux install clean check-deps fuzz fuzz-build

all: $(BUILD)/mxguard $(TOOL_BINS)

# ---- dependencies -------------------------------------------------------
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: all packages present"; exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then echo "deps: missing:$$missing (run 'make deps' as root)"; exit 1; fi; \
	echo "deps: installing:$$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	case "$$missing" in *crowdsec*) \
		mkdir -p /etc/crowdsec; \
		[ -s /etc/crowdsec/online_api_credentials.yaml ] || \
		echo "# offline: no Central API (README.Debian); written by mxguard's make deps" \
			> /etc/crowdsec/online_api_credentials.yaml;; \
	esac; \
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null && echo "deps: done"

# ---- BPF -----------------------------------------------------------------
$(BUILD)/%.bpf.o: %.bpf.c | vmlinux/vmlinux.h
	@mkdir -p $(@D)
	@echo "  BPF     $@"
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	@echo "  SKEL    $@"
	$(Q)$(BPFTOOL) gen skeleton $< name $(notdir $(basename $(basename $<))) > $@

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h.tmp
	mv vmlinux/vmlinux.h.tmp vmlinux/vmlinux.h

# ---- userspace -----------------------------------------------------------
$(BUILD)/%.o: %.c | $(SKELS)
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/mxguard: $(CMD_OBJS) $(LIB_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDSAN) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(LIB_OBJS) $(TLIB_OBJS)
	$(Q)$(CC) $(LDSAN) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/bpf/%: $(BUILD)/tests/bpf/%.o $(LIB_OBJS) $(TLIB_OBJS)
	$(Q)$(CC) $(LDSAN) -o $@ $^ $(LDLIBS) -lpthread

$(BUILD)/tools/%: $(BUILD)/tools/%.o $(LIB_OBJS)
	$(Q)$(CC) $(LDSAN) -o $@ $^ $(LDLIBS) -lpthread

# ---- fuzzing -------------------------------------------------------------
# libFuzzer targets over the pure parsers of user/, built with clang and the
# sanitizers into $(BUILD)/fuzz/, apart from the normal objects. `make fuzz`
# runs each for FUZZ_SECONDS; crashes are kept in $(BUILD)/fuzz/crashes/.
FUZZ_SECONDS  ?= 60
FUZZ_DIR      := $(BUILD)/fuzz
FUZZ_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
FUZZ_CFLAGS   := -std=c11 -D_GNU_SOURCE $(WARN) -O1 -g $(FUZZ_SAN) \
	-fsanitize=fuzzer-no-link -MMD -MP -Ibpf -Iuser
FUZZ_LIB_OBJS := $(patsubst user/%.c,$(FUZZ_DIR)/obj/user/%.o,\
	user/addr.c user/units.c user/listfmt.c user/cfg.c user/config.c user/logwatch.c)
FUZZ_BINS     := $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,$(wildcard tests/fuzz/fuzz_*.c))

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  FUZZCC  $@"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/tests/fuzz/fuzz_%.o $(FUZZ_LIB_OBJS)
	@echo "  FUZZLD  $@"
	$(Q)$(CLANG) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ -lz \
		$(shell $(PKG_CONFIG) --libs inih 2>/dev/null || echo -linih)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	$(Q)MXG_BUILD=$(BUILD) MXG_FUZZ_SECONDS=$(FUZZ_SECONDS) tests/e2e/test_fuzz_smoke.sh

# ---- tests, demo, bench --------------------------------------------------
test: deps
	$(Q)$(MAKE) --no-print-directory all $(UNIT_BINS) $(BPFT_BINS) $(FUZZ_BINS)
	$(Q)MXG_BUILD=$(BUILD) MXG_BIN=$(abspath $(BUILD))/mxguard \
		MXG_CONN=$(abspath $(BUILD))/tools/mxg-conn tests/run.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tools/demo.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tools/bench.sh

# ---- install -------------------------------------------------------------
$(BUILD)/mxguard.8: $(BUILD)/mxguard tools/gen-man.sh
	$(Q)tools/gen-man.sh $(BUILD)/mxguard > $@

install: $(BUILD)/mxguard $(BUILD)/mxguard.8
	install -D -m 0755 $(BUILD)/mxguard $(DESTDIR)$(PREFIX)/sbin/mxguard
	install -D -m 0644 $(BUILD)/mxguard.8 $(DESTDIR)$(PREFIX)/share/man/man8/mxguard.8
	install -D -m 0644 doc/mxguard.conf.example $(DESTDIR)$(PREFIX)/share/doc/mxguard/mxguard.conf.example
	install -D -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/mxguard/README.md

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
