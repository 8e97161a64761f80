# boxvm build. `make` builds release binaries in build/; `make check` builds a
# sanitized copy in build/test/ and runs every test; `make demo` runs a box.
# Sources are picked up by directory, so adding a file needs no edit here.

CC       ?= gcc
MUSL_CC  ?= musl-gcc
PYTHON   ?= /usr/bin/python3
SANITIZE ?= 0
BUILD    ?= build

WARN     := -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
BASE_CFLAGS := -std=gnu11 $(WARN) -O2 -g -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64
HOST_PKGS := libarchive jansson libcurl libcrypto libmicrohttpd gnutls zlib libseccomp
HOST_CFLAGS := $(BASE_CFLAGS) $(shell pkg-config --cflags $(HOST_PKGS) 2>/dev/null)
HOST_LIBS := $(shell pkg-config --libs $(HOST_PKGS) 2>/dev/null)
AGENT_CFLAGS := $(BASE_CFLAGS) -Os
# libseccomp (in HOST_PKGS): the shim's filter on each share's virtiofsd, and
# the boxes' seccomp profiles compiled on the host (src/box/seccomp*.c)
SHIM_LIBS :=
ifeq ($(SANITIZE),1)
HOST_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
HOST_LDFLAGS += -fsanitize=address,undefined
# the test build's agent carries the hostile-guest test mode (src/agent/hostile.c)
AGENT_CFLAGS += -DBOXVM_TEST_HOOKS
endif
# FUZZ=1 (set by `make fuzz`, with CC=clang): the library instrumented for libFuzzer
ifeq ($(FUZZ),1)
HOST_CFLAGS += -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
HOST_LDFLAGS += -fsanitize=fuzzer,address,undefined
endif

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
HOST_CFLAGS += -DBOXVM_VERSION='"$(VERSION)"'

# Each folder of src/ is one layer, built as its own static library; a layer
# uses only the layers listed after it (scripts/check-layers.sh enforces it):
#   cli -> api -> box, runtime -> box -> client -> store -> vm -> image -> proto -> common
# The shim uses store and below; the agent only proto and common/err.c.
LAYERS := api box client store vm image proto common
layer_src = $(wildcard src/$(1)/*.c) $(wildcard src/$(1)/*/*.c)
layer_lib = $(BUILD)/libboxvm-$(1).a
# link order: higher layers first (static libraries resolve left to right)
LAYER_LIBS := $(foreach l,$(LAYERS),$(call layer_lib,$(l)))
CORE_LIBS := $(foreach l,store vm image proto common,$(call layer_lib,$(l)))
# src/cli/front.c is `boxvm` itself (exec, and boxvm-cli for the rest); the rest is boxvm-cli
CLI_SRC   := $(filter-out src/cli/front.c,$(wildcard src/cli/*.c))
SHIM_SRC  := $(wildcard src/shim/*.c)
NETD_SRC  := $(wildcard src/netd/*.c)
AGENT_SRC := $(wildcard src/agent/*.c) $(wildcard src/agent/pure/*.c) $(wildcard src/proto/*.c) src/common/err.c src/common/bytes.c src/common/netlink.c src/common/readtext.c
UNIT_SRC  := $(wildcard tests/unit/*/test_*.c)
RUNTIME_SRC := $(wildcard src/runtime/*.c)

CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
FRONT_OBJ := $(addprefix $(BUILD)/obj/src/cli/,front.o report.o cmd_exec.o args.o)
# the CLI's commands and views without main(), for unit tests
CLI_LIB_OBJ := $(filter-out $(BUILD)/obj/src/cli/main.o,$(CLI_OBJ))
SHIM_OBJ := $(SHIM_SRC:%.c=$(BUILD)/obj/%.o)
NETD_OBJ := $(NETD_SRC:%.c=$(BUILD)/obj/%.o)
# the shim's modules without main(), for unit tests (its state machine)
SHIM_LIB_OBJ := $(filter-out $(BUILD)/obj/src/shim/main.o,$(SHIM_OBJ))
RUNTIME_OBJ := $(RUNTIME_SRC:%.c=$(BUILD)/obj/%.o)
# the runtime's config.json mapping without main(), for unit tests
RUNTIME_LIB_OBJ := $(filter-out $(BUILD)/obj/src/runtime/main.o,$(RUNTIME_OBJ))
AGENT_OBJ := $(AGENT_SRC:%.c=$(BUILD)/agent-obj/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)
# the agent's pure modules (no PID-1 side effects) are unit-tested with the host compiler too
AGENT_PURE := $(wildcard src/agent/pure/*.c)
AGENT_PURE_OBJ := $(AGENT_PURE:%.c=$(BUILD)/obj/%.o)

.PHONY: all layers deps kernel image distro-image demo check unit integration bench clean install fuzz fuzz-build fuzz-bins fuzz-regress
all: layers $(BUILD)/boxvm $(BUILD)/boxvm-cli $(BUILD)/boxvm-runtime $(BUILD)/boxvm-shim $(BUILD)/boxvm-netd $(BUILD)/boxvm-agent $(BUILD)/boxvm-prepare-kernel \
	$(BUILD)/boxvm-build-kernel $(BUILD)/boxvm-kernel.config

# the folders of src/ are layers whose includes run one way (scripts/check-layers.sh)
layers:
	@scripts/check-layers.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/agent-obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(MUSL_CC) $(AGENT_CFLAGS) -MMD -MP -c $< -o $@
# rtnetlink's messages: the kernel's uapi headers (libc-neutral), which musl
# does not ship, after musl's own
$(BUILD)/agent-obj/src/common/netlink.o: AGENT_CFLAGS += -idirafter /usr/include -idirafter /usr/include/$(shell $(CC) -dumpmachine)

define layer_rule
$(call layer_lib,$(1)): $(patsubst %.c,$(BUILD)/obj/%.o,$(call layer_src,$(1)))
	@rm -f $$@
	ar rcs $$@ $$^
endef
$(foreach l,$(LAYERS),$(eval $(call layer_rule,$(l))))

# Docker's default seccomp profile, embedded in the box layer (src/box/seccomp.h)
$(BUILD)/gen/seccomp_default.c: data/seccomp/docker-default.json
	@mkdir -p $(dir $@)
	@printf '/* generated from %s: Docker 20.10 default seccomp profile */\n#include <stddef.h>\nconst char bx_seccomp_docker_default[] = {\n' $< > $@.tmp
	@od -An -v -tx1 $< | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g' >> $@.tmp
	@printf '0x00};\nconst size_t bx_seccomp_docker_default_len = sizeof(bx_seccomp_docker_default) - 1;\n' >> $@.tmp
	@mv $@.tmp $@
$(BUILD)/gen/seccomp_default.o: $(BUILD)/gen/seccomp_default.c
	$(CC) $(HOST_CFLAGS) -c $< -o $@
$(call layer_lib,box): $(BUILD)/gen/seccomp_default.o

$(BUILD)/libboxvm-cli.a: $(CLI_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libboxvm-runtime.a: $(RUNTIME_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libboxvm-shim.a: $(SHIM_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# --as-needed: only the libraries exec's code uses are loaded at its start (front.c)
$(BUILD)/boxvm: $(FRONT_OBJ) $(LAYER_LIBS)
	$(CC) $(HOST_LDFLAGS) -Wl,--as-needed -o $@ $(FRONT_OBJ) $(LAYER_LIBS) $(HOST_LIBS)

$(BUILD)/boxvm-cli: $(CLI_OBJ) $(LAYER_LIBS)
	$(CC) $(HOST_LDFLAGS) -o $@ $(CLI_OBJ) $(LAYER_LIBS) $(HOST_LIBS)

$(BUILD)/boxvm-runtime: $(RUNTIME_OBJ) $(LAYER_LIBS)
	$(CC) $(HOST_LDFLAGS) -o $@ $(RUNTIME_OBJ) $(LAYER_LIBS) $(HOST_LIBS)

$(BUILD)/boxvm-shim: $(SHIM_OBJ) $(CORE_LIBS)
	$(CC) $(HOST_LDFLAGS) -o $@ $(SHIM_OBJ) $(CORE_LIBS) $(HOST_LIBS) $(SHIM_LIBS)

$(BUILD)/boxvm-netd: $(NETD_OBJ) $(CORE_LIBS)
	$(CC) $(HOST_LDFLAGS) -o $@ $(NETD_OBJ) $(CORE_LIBS) $(HOST_LIBS)

$(BUILD)/boxvm-agent: $(AGENT_OBJ)
	$(MUSL_CC) -static -o $@ $(AGENT_OBJ)

$(BUILD)/boxvm-prepare-kernel: scripts/prepare-kernel.sh
	@mkdir -p $(dir $@)
	install -m 0755 $< $@

# the tailored guest kernel (boxvm kernel build): the script and its config fragment
$(BUILD)/boxvm-build-kernel: scripts/build-kernel.sh
	@mkdir -p $(dir $@)
	install -m 0755 $< $@

$(BUILD)/boxvm-kernel.config: data/kernel/boxvm.config
	@mkdir -p $(dir $@)
	install -m 0644 $< $@

UNIT_LIBS := $(BUILD)/libboxvm-shim.a $(BUILD)/libboxvm-cli.a $(BUILD)/libboxvm-runtime.a $(LAYER_LIBS)
$(BUILD)/unit/%: tests/unit/%.c $(UNIT_LIBS) $(AGENT_PURE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $(HOST_LDFLAGS) -MMD -MP -Isrc -o $@ $< $(AGENT_PURE_OBJ) $(UNIT_LIBS) $(HOST_LIBS) $(SHIM_LIBS) -lcmocka

deps:
	@scripts/install-deps.sh

kernel: all
	@$(BUILD)/boxvm kernel prepare

image: $(BUILD)/images/busybox.tar
$(BUILD)/images/busybox.tar: scripts/make-busybox-image.sh scripts/pack-oci-image.sh
	@scripts/make-busybox-image.sh $@

# a real distribution for the tests busybox alone would pass (apt-get in a box)
distro-image: $(BUILD)/images/debian.tar
$(BUILD)/images/debian.tar: scripts/make-debian-image.sh scripts/pack-oci-image.sh
	@scripts/make-debian-image.sh $@

demo: deps
	@$(MAKE) --no-print-directory all kernel image
	@$(BUILD)/boxvm load -i $(BUILD)/images/busybox.tar
	$(BUILD)/boxvm run --rm busybox echo "hello from a microVM"

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

# libFuzzer targets (tests/fuzz/README.md): one per host-side parser, built
# with clang into build/fuzz. `make fuzz-regress` runs each over its committed
# corpus once (seconds); `make fuzz` fuzzes each for FUZZ_SECONDS, writing new
# inputs and crashes under FUZZ_WORK, never into the tree.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_WORK    ?= build/fuzz/work
FUZZ_TARGETS ?= $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_TARGETS:%=$(BUILD)/fuzz_%)

fuzz-build:
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=$(FUZZ_CC) FUZZ=1 fuzz-bins

fuzz-bins: $(FUZZ_BIN)

$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(BUILD)/libboxvm-cli.a $(BUILD)/libboxvm-runtime.a $(LAYER_LIBS)
	$(CC) $(HOST_CFLAGS) $(HOST_LDFLAGS) -MMD -MP -Isrc -o $@ $< $(BUILD)/libboxvm-cli.a $(BUILD)/libboxvm-runtime.a $(LAYER_LIBS) $(HOST_LIBS)

fuzz-regress: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
		printf '== fuzz_%s: %s inputs\n' $$t "$$(ls tests/fuzz/corpus/$$t | wc -l)"; \
		build/fuzz/fuzz_$$t tests/fuzz/corpus/$$t/* >build/fuzz/regress-$$t.log 2>&1 || \
			{ cat build/fuzz/regress-$$t.log; echo "fuzz_$$t failed on its corpus" >&2; exit 1; }; \
	done

fuzz: fuzz-build
	@failed=""; for t in $(FUZZ_TARGETS); do \
		echo "== fuzz_$$t for $(FUZZ_SECONDS)s (new inputs: $(FUZZ_WORK)/$$t)"; \
		mkdir -p $(FUZZ_WORK)/$$t $(FUZZ_WORK)/crashes; \
		build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_WORK)/crashes/$$t- $(FUZZ_WORK)/$$t tests/fuzz/corpus/$$t || failed="$$failed $$t"; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: findings in:$$failed (inputs in $(FUZZ_WORK)/crashes)" >&2; exit 1; fi

# Everything a fresh machine needs, then every test against the sanitized build.
check: deps
	@$(MAKE) --no-print-directory BUILD=build/test SANITIZE=1 all unit
	@$(MAKE) --no-print-directory fuzz-regress
	@$(MAKE) --no-print-directory BUILD=build/test SANITIZE=1 kernel image distro-image
	@$(MAKE) --no-print-directory BUILD=build/test integration

# KERNEL=tailored: the boxes boot boxvm's tailored guest kernel, which must have
# been built beforehand (boxvm kernel build); check never builds it
KERNEL ?= cloud
# then the run, exec, volume, network and CRI tests again, each box served by
# a warm-pool VM where one fits (issue 17: a pool box behaves as a cold one)
POOL_MODULES := $(addprefix tests/integration/,test_run.py test_exec.py test_volumes.py test_network.py test_cri.py)
integration:
	BOXVM_KERNEL=$(KERNEL) BOXVM_BUILD=$(abspath $(BUILD)) $(PYTHON) -m pytest -ra --durations=30 -n 2 tests/integration
	BOXVM_KERNEL=$(KERNEL) BOXVM_BUILD=$(abspath $(BUILD)) BOXVM_TEST_POOL=1 $(PYTHON) -m pytest -ra -n 2 $(POOL_MODULES)

bench: all kernel image
	@$(BUILD)/boxvm load -q -i $(BUILD)/images/busybox.tar
	@bench/run-latency $(BUILD)
	@bench/lifecycle $(BUILD)
	@bench/exec $(BUILD)
	@bench/pull $(BUILD)
	@bench/net-storage $(BUILD)
	@bench/longlived $(BUILD)
	@bench/stress $(BUILD)
	@bench/oci-runtime $(BUILD)
	@bench/api $(BUILD)
	@bench/confinement $(BUILD)
	@bench/build $(BUILD)
	@BOXVM_DENSITY_KSM=1 bench/density $(BUILD)
	@bench/kernel $(BUILD)

PREFIX ?= /usr/local
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/libexec/boxvm
	install -m 0755 $(BUILD)/boxvm $(DESTDIR)$(PREFIX)/bin/boxvm
	install -m 0755 $(BUILD)/boxvm-runtime $(DESTDIR)$(PREFIX)/bin/boxvm-runtime
	install -m 0755 $(BUILD)/boxvm-cli $(BUILD)/boxvm-shim $(BUILD)/boxvm-netd $(BUILD)/boxvm-agent $(BUILD)/boxvm-prepare-kernel $(DESTDIR)$(PREFIX)/libexec/boxvm/
	install -m 0755 $(BUILD)/boxvm-build-kernel $(DESTDIR)$(PREFIX)/libexec/boxvm/
	install -m 0644 $(BUILD)/boxvm-kernel.config $(DESTDIR)$(PREFIX)/libexec/boxvm/
	@# the boot unit (not enabled: contrib/boxvm-boot.service says how), naming this PREFIX's boxvm
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system
	sed 's|/usr/local/bin/boxvm|$(PREFIX)/bin/boxvm|' contrib/boxvm-boot.service > $(BUILD)/boxvm-boot.service
	install -m 0644 $(BUILD)/boxvm-boot.service $(DESTDIR)$(PREFIX)/lib/systemd/system/boxvm-boot.service

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
