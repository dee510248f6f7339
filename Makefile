# cnnkit: one non-recursive makefile.  make [all|check|check-asan|bench|install|uninstall|clean]
VERSION  := 0.1.0
PREFIX   ?= /usr/local
DESTDIR  ?=
BUILD    ?= build
CC       ?= cc
OPT      ?= -O3 -g
SAN      ?=
CFLAGS   ?=
CPPFLAGS += -Ilib -DCNNKIT_VERSION='"$(VERSION)"' -D_GNU_SOURCE
XCFLAGS  := -std=c11 -Wall -Wextra -Werror -Wno-format-truncation -fno-trapping-math -fopenmp $(OPT) $(SAN) $(CFLAGS)
LDLIBS   := -lblis -lturbojpeg -lspng -ljansson -lyaml -lz -lm
XLDFLAGS := -fopenmp $(SAN) $(LDFLAGS)

PROGS    := $(patsubst bin/%.c,%,$(wildcard bin/*.c))
LIBSRC   := $(wildcard lib/*/*.c)
LIBOBJ   := $(patsubst %.c,$(BUILD)/%.o,$(LIBSRC))
UNITSRC  := $(wildcard tests/unit/test_*.c)
UNITBIN  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNITSRC))
BINS     := $(addprefix $(BUILD)/bin/,$(PROGS))
MAN1     := $(wildcard man/man1/*.1)
MAN5     := $(wildcard man/man5/*.5)

all: $(BINS) $(UNITBIN)

$(BUILD)/%.o: %.c Makefile
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(XCFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libtensor.a: $(LIBOBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/bin/%: $(BUILD)/bin/%.o $(BUILD)/libtensor.a
	@mkdir -p $(@D)
	$(CC) $(XLDFLAGS) $< $(BUILD)/libtensor.a $(LDLIBS) -o $@

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libtensor.a
	@mkdir -p $(@D)
	$(CC) $(XLDFLAGS) $< $(BUILD)/libtensor.a $(LDLIBS) -o $@

# test_forward counts the allocations the library makes in a forward pass: its calls to the
# allocators go through the test's counting wrappers.
$(BUILD)/tests/test_forward: XLDFLAGS += $(foreach f,malloc calloc realloc aligned_alloc posix_memalign,-Wl,--wrap=$(f))

# Tests: unit tests, then the bats files, against this build tree.
check: all
	BUILD=$(BUILD) tests/run

# The PyTorch references are shared with the plain build's, so they are made once.
check-asan:
	$(MAKE) BUILD=build-asan REF_DIR=$(CURDIR)/build/ref OPT='-O1 -g -fno-omit-frame-pointer' \
	  SAN='-fsanitize=address,undefined -fno-sanitize-recover=undefined' check

bench: all
	BUILD=$(BUILD) scripts/bench/run

demo: all
	BUILD=$(BUILD) scripts/demo

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(MAN1) $(DESTDIR)$(PREFIX)/share/man/man1/
	$(if $(MAN5),install -m 644 $(MAN5) $(DESTDIR)$(PREFIX)/share/man/man5/)
	install -d $(DESTDIR)$(PREFIX)/share/cnnkit
	install -m 755 scripts/plot-miou scripts/plot-map scripts/shard-eval scripts/slurm-eval $(DESTDIR)$(PREFIX)/share/cnnkit/
	install -m 644 scripts/experiment.mk $(DESTDIR)$(PREFIX)/share/cnnkit/

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/bin/,$(PROGS))
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/share/man/man1/,$(notdir $(MAN1)))
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/share/man/man5/,$(notdir $(MAN5)))
	rm -rf $(DESTDIR)$(PREFIX)/share/cnnkit

clean:
	rm -rf build build-asan build-fuzz

.PHONY: all check check-asan bench demo install uninstall clean fuzz fuzz-smoke
.SECONDARY:
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# libFuzzer targets (clang), built in build-fuzz/: every parser for FUZZ_SECONDS each, or 10 s each.
FUZZ_SECONDS ?= 60
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run

fuzz-smoke:
	fuzz/run smoke

# Valgrind memcheck tier: one full pipeline per program; memory errors and definite leaks fail.
check-valgrind: all
	scripts/hostile/valgrind-tier $(BUILD)

.PHONY: check-valgrind
