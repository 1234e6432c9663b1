# capsim - a plain Makefile.  `make run` and `make test` install what is
# missing first (`make deps`), then build.
CC      ?= cc
CFLAGS  ?= -std=c11 -O2 -g -Wall -Wextra
CPPFLAGS += -D_GNU_SOURCE -Ibpfvm -Isim -Ilive -Itraces
LDLIBS  += -lpcap -ljansson -lm
CMOCKA  := -lcmocka

# SAN=1 builds everything with AddressSanitizer + UndefinedBehaviorSanitizer
# into its own folder, so the two builds never mix objects.
BUILDROOT ?= build
ifeq ($(SAN),1)
BUILD   := $(BUILDROOT)/san
CFLAGS  += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
else
BUILD   := $(BUILDROOT)/rel
endif
ifeq ($(WERROR),1)
CFLAGS  += -Werror
endif

LIB_SRC   := $(sort $(wildcard bpfvm/*.c sim/*.c live/*.c traces/*.c))
CLI_SRC   := $(sort $(wildcard cli/*.c))
TEST_SRC  := $(sort $(wildcard tests/test_*.c))
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
HEADERS   := $(wildcard */*.h)

LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/%.o)
LIB       := $(BUILD)/libcapsim.a
CAPSIM    := $(BUILD)/capsim
TESTS     := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
REPLAYS   := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%-replay)

.PHONY: all deps run test check bench docs fuzz clean format
all: $(CAPSIM) capsim

# A link at the top, so README commands read `./capsim ...`.
capsim: $(CAPSIM)
	@ln -sf $(CAPSIM) capsim

deps:
	@./scripts/deps.sh

$(BUILD)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(CAPSIM): $(CLI_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(BUILD)/tests/testutil.o $(LIB) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/tests/testutil.o $(LIB) $(CMOCKA) $(LDLIBS)

$(BUILD)/tests/testutil.o: tests/testutil.c tests/testutil.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) -c $< -o $@

# Each fuzz target also builds as a plain program that replays files.
$(BUILD)/fuzz/%-replay: tests/fuzz/%.c tests/fuzz/replay.c $(LIB) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< tests/fuzz/replay.c $(LIB) $(LDLIBS)

# `make check`: build with -Werror, run every suite and replay every corpus;
# in the normal build also cppcheck and a small end-to-end run under
# valgrind (valgrind and ASan cannot share a process, so not with SAN=1).
check: $(CAPSIM) $(TESTS) $(REPLAYS)
	@./tests/run.sh $(BUILD) $(TESTS) -- $(REPLAYS)
ifneq ($(SAN),1)
	@./scripts/cppcheck.sh
	@./scripts/valgrind-smoke.sh $(CAPSIM)
endif

# The whole suite twice: a normal build, then under ASan + UBSan.
test: deps
	$(MAKE) WERROR=1 check
	$(MAKE) WERROR=1 SAN=1 check

# The flagship demo: a packet dropped by netfilter on egress never reaches
# tcpdump; capsim says where it went and why.
run: deps capsim
	./capsim sim scenarios/egress-netfilter-drop.scn
	@if [ "$$(id -u)" -eq 0 ]; then \
		echo; echo "== the same scenario on the running kernel, beside the model"; \
		./capsim live scenarios/egress-netfilter-drop.scn; \
	else \
		echo "(as root, make run also builds the scenario on the real kernel: capsim live)"; \
	fi

bench: deps capsim
	./capsim bench
	./scripts/bench-whole.sh ./capsim
	./scripts/bench-sim.sh ./capsim

# `make docs`: the pictures and the man page's text in docs/, generated from
# the model (scripts/docs.sh).  docs/gen/overview.c prints the overview.
OVERVIEW := $(BUILD)/docs/overview
$(OVERVIEW): docs/gen/overview.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $<

docs: deps $(CAPSIM) $(OVERVIEW)
	./scripts/docs.sh $(CAPSIM) $(OVERVIEW) docs

FUZZ_SECONDS ?= 60
fuzz: deps
	@./tests/fuzz/campaign.sh $(FUZZ_SECONDS)

format:
	clang-format -i $(LIB_SRC) $(CLI_SRC) $(TEST_SRC) $(HEADERS)

clean:
	rm -rf build capsim
