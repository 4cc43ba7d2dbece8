# provmark — plain Makefile. `make` builds the library and the command line tool.
# make demo | check | test | bench | install | clean   (see README.md)
# WERROR=0 turns warnings back into warnings (e.g. for a newer compiler); the
# default, used by the tests, is -Werror.

PREFIX ?= /usr/local
CC ?= cc
OPT ?= -O3
# The public header is include/provmark.h; dsp/*.h are libprovmark's private headers,
# seen only by dsp/ itself, its unit tests and the libraries built on its internals.
WERROR ?= 1
CFLAGS_BASE := -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) \
	-Wshadow -Wstrict-prototypes -fPIC -fvisibility=hidden -Iinclude
CFLAGS_ALL = $(CFLAGS_BASE) $(OPT) $(CFLAGS)
# FFTW >= 3.3.5 can make its planner thread-safe for the whole process (dsp/fft.c).
FFTW_THREADS := $(shell test -e "$$(pkg-config --variable=libdir fftw3f 2>/dev/null)/libfftw3f_threads.so" && echo 1)
LIBS_DSP := -lsodium $(if $(FFTW_THREADS),-lfftw3f_threads) -lfftw3f -lm -lpthread
LIBS_CLI := -lsndfile -lsoxr -ljansson -lpthread

B := build
VERSION := $(shell sed -n 's/^\#define PM_VERSION_STRING "\(.*\)"/\1/p' include/provmark.h)
SONAME := libprovmark.so.$(firstword $(subst ., ,$(VERSION)))
REALNAME := libprovmark.so.$(VERSION)
DSP_SRC := $(wildcard dsp/*.c)
FP_SRC := $(wildcard fingerprint/*.c)
CLI_SRC := $(filter-out cli/main.c,$(wildcard cli/*.c))
DSP_OBJ := $(DSP_SRC:%.c=$(B)/obj/%.o)
FP_OBJ := $(FP_SRC:%.c=$(B)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(B)/obj/%.o)
PLUGIN_SRC := $(wildcard plugin/*.c)

all: $(B)/lib/libprovmark.a $(B)/lib/libprovmark.so $(B)/bin/provmark

$(B)/obj/dsp/%.o: dsp/%.c $(wildcard dsp/*.h) include/provmark.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Idsp -DPM_BUILDING $(if $(FFTW_THREADS),-DPM_FFTW_THREADS) -c $< -o $@

# The fingerprint engine: built on libprovmark's FFT wrapper and FFT-size rule.
$(B)/obj/fingerprint/%.o: fingerprint/%.c $(wildcard fingerprint/*.h) $(wildcard dsp/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Idsp -c $< -o $@

$(B)/obj/cli/%.o: cli/%.c $(wildcard cli/*.h) fingerprint/fingerprint.h include/provmark.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Ifingerprint -c $< -o $@

$(B)/obj/plugin/%.o: plugin/%.c plugin/plugin.h include/provmark.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Iplugin -c $< -o $@

# libprovmark.a holds one object in which everything but the documented API (PM_API,
# default visibility) is local: a program linking it sees only pm_* API names
# (tests/symbols.sh checks it). libprovmark-internal.a keeps the objects as they are,
# for the unit tests of internals and the libraries in this tree built on them.
$(B)/lib/libprovmark.a: $(DSP_OBJ)
	@mkdir -p $(dir $@)
	$(LD) -r -o $(B)/obj/provmark-all.o $^
	objcopy --localize-hidden $(B)/obj/provmark-all.o
	rm -f $@ && ar rcs $@ $(B)/obj/provmark-all.o

$(B)/lib/libprovmark-internal.a: $(DSP_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# libpmfp: the fingerprint engine (fingerprint/fingerprint.h, docs/FPINDEX.md).
$(B)/lib/libpmfp.a: $(FP_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# The command's modules, for the command and the fuzzers.
$(B)/lib/libpmcli.a: $(CLI_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# The plugin's objects, for the state fuzzer (the bundle's .so is linked below).
$(B)/lib/libpmlv2.a: $(PLUGIN_SRC:%.c=$(B)/obj/%.o)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(B)/lib/libprovmark.so: $(DSP_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--no-undefined $(LDFLAGS) -o $(B)/lib/$(REALNAME) $^ $(LIBS_DSP)
	ln -sf $(REALNAME) $(B)/lib/$(SONAME)
	ln -sf $(SONAME) $@

# pkg-config file for the install prefix (rebuilt when PREFIX changes).
$(B)/provmark.pc: dsp/provmark.pc.in include/provmark.h FORCE
	@mkdir -p $(dir $@)
	@sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@FFTW_THREADS@|$(if $(FFTW_THREADS),-lfftw3f_threads)|' $< >$@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi

FORCE:

# One copy of libprovmark in the program (the fingerprint engine shares its FFT lock).
CLI_LIBS := $(B)/lib/libpmcli.a $(B)/lib/libpmfp.a $(B)/lib/libprovmark-internal.a

$(B)/bin/provmark: $(B)/obj/cli/main.o $(CLI_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(CLI_LIBS) $(LIBS_CLI) $(LIBS_DSP)

# ---------------------------------------------------------------- tests
TEST_SRC := $(wildcard tests/unit/*.c)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(B)/tests/%)

TEST_LIBS := $(B)/lib/libpmfp.a $(B)/lib/libprovmark-internal.a

$(B)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(TEST_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Idsp -Ifingerprint -Wno-unused-parameter -o $@ $< $(TEST_LIBS) -lcmocka $(LIBS_DSP) -ldl

tests: all $(TEST_BIN) $(B)/tests/libfailalloc.so

# The unit tests alone (seconds).
check: $(TEST_BIN)
	@for t in $(TEST_BIN); do $$t || exit 1; done

# Rewrite the known-answer vectors (tests/vectors/vectors.txt) from the code as it is:
# only after a deliberate format change (docs/FORMAT.md, "Test vectors").
vectors: $(B)/tests/test_vectors
	PM_VECTORS_WRITE=1 $(B)/tests/test_vectors
	@git diff --stat -- tests/vectors 2>/dev/null || true

# An allocator that fails on demand, preloaded by tests/nomem.sh.
$(B)/tests/libfailalloc.so: tests/failalloc/failalloc.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -shared -o $@ $< -ldl

deps-test:
	@scripts/deps.sh test

deps-demo:
	@scripts/deps.sh demo

# The build and the linters side by side, then the suites in two lanes (tests/run.sh).
test: deps-test
	$(MAKE) -j2 -Otarget tests lint
	tests/run.sh

demo: deps-demo
	$(MAKE) all
	scripts/demo.sh

bench: deps-test
	$(MAKE) all
	bench/run.sh

install: all $(B)/provmark.pc
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 755 $(B)/bin/provmark $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(B)/lib/libprovmark.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(B)/lib/$(REALNAME) $(DESTDIR)$(PREFIX)/lib/
	ln -sf $(REALNAME) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/libprovmark.so
	install -m 644 include/provmark.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(B)/provmark.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" -eq 0 ] && command -v ldconfig >/dev/null; then ldconfig; fi

# The Python package for the system's Python (Debian's looks in /usr/local/lib/python3.X/
# dist-packages), with provmark/_library.py naming the library installed above.
PYTHON ?= /usr/bin/python3
PYTHON_SITE ?= $(PREFIX)/lib/python$(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')/dist-packages
install-python:
	install -d $(DESTDIR)$(PYTHON_SITE)/provmark
	install -m 644 python/provmark/__init__.py $(DESTDIR)$(PYTHON_SITE)/provmark/
	$(PYTHON) -c 'import sys; print("# written by make install\nPATH = %r" % sys.argv[1])' \
		'$(PREFIX)/lib/$(SONAME)' >$(DESTDIR)$(PYTHON_SITE)/provmark/_library.py
install: install-python

# The man pages: help2man's rendering of each command's real --help, with the sections
# --help has not from docs/man/NAME.h2m (docs/man/help2man.sh); a command has a page
# when its .h2m is there (tests/examples.sh checks every command has one).
MAN_NAMES := provmark $(patsubst docs/man/%.h2m,%,$(wildcard docs/man/provmark-*.h2m))
MAN_PAGES := $(MAN_NAMES:%=$(B)/man/%.1)
MAN_DIR ?= $(PREFIX)/share/man/man1
BASH_COMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSH_COMPDIR ?= $(PREFIX)/share/zsh/site-functions

$(B)/man/%.1: docs/man/%.h2m docs/man/help2man.sh docs/man/usage.awk $(B)/bin/provmark
	@mkdir -p $(dir $@)
	docs/man/help2man.sh $(B)/bin/provmark $(VERSION) "$(if $(filter provmark,$*),,$(patsubst provmark-%,%,$*))" $@

man: $(MAN_PAGES)

install-man: man
	install -d $(DESTDIR)$(MAN_DIR) $(DESTDIR)$(BASH_COMPDIR) $(DESTDIR)$(ZSH_COMPDIR)
	install -m 644 $(MAN_PAGES) $(DESTDIR)$(MAN_DIR)/
	install -m 644 shell/provmark.bash $(DESTDIR)$(BASH_COMPDIR)/provmark
	install -m 644 shell/_provmark $(DESTDIR)$(ZSH_COMPDIR)/_provmark
install: install-man

# Everything `make install` put in place (the same PREFIX and DESTDIR), and nothing else.
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/provmark $(DESTDIR)$(PREFIX)/include/provmark.h \
		$(DESTDIR)$(PREFIX)/lib/libprovmark.a $(DESTDIR)$(PREFIX)/lib/$(REALNAME) \
		$(DESTDIR)$(PREFIX)/lib/$(SONAME) $(DESTDIR)$(PREFIX)/lib/libprovmark.so \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig/provmark.pc $(MAN_NAMES:%=$(DESTDIR)$(MAN_DIR)/%.1) \
		$(DESTDIR)$(BASH_COMPDIR)/provmark $(DESTDIR)$(ZSH_COMPDIR)/_provmark
	rm -rf $(DESTDIR)$(PREFIX)/lib/lv2/provmark.lv2 $(DESTDIR)$(PYTHON_SITE)/provmark
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" -eq 0 ] && command -v ldconfig >/dev/null; then ldconfig; fi

clean:
	rm -rf $(B)

.PHONY: all tests check vectors test demo bench install install-python man install-man uninstall clean deps-test deps-demo FORCE

# ---------------------------------------------------------------- bench tools
$(B)/bin/pmstat: bench/pmstat.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Ibench -o $@ bench/pmstat.c -lsndfile -lm

all: $(B)/bin/pmstat

$(B)/bin/pmspeed: bench/speed.c bench/timing.h $(B)/lib/libprovmark.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Ibench -o $@ bench/speed.c $(B)/lib/libprovmark.a -lsndfile $(LIBS_DSP)

all: $(B)/bin/pmspeed

$(B)/bin/pmapi: bench/api.c bench/timing.h $(B)/lib/libprovmark.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Ibench -o $@ bench/api.c $(B)/lib/libprovmark.a -lsndfile $(LIBS_DSP)

all: $(B)/bin/pmapi

# ---------------------------------------------------------------- LV2 plugin
LV2_DIR := $(B)/lv2/provmark.lv2

$(LV2_DIR)/provmark.so: $(PLUGIN_SRC) $(wildcard plugin/*.h) $(B)/lib/libprovmark.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Iplugin -shared -Wl,--no-undefined -Wl,--exclude-libs,ALL $(LDFLAGS) \
		-o $@ $(PLUGIN_SRC) $(B)/lib/libprovmark.a $(LIBS_DSP)

# The TTL is generated (as x42's fil4.lv2 does): templates in ttl/ filled by sed with the
# values of the C headers (port indices, limits, version, latency at the highest rate),
# which ttl/values.c prints as a sed script. Mono and stereo share the control ports.
$(B)/ttl/values: ttl/values.c $(wildcard plugin/*.h) $(B)/lib/libprovmark.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Iplugin -o $@ $< $(B)/lib/libprovmark.a $(LIBS_DSP)

$(B)/ttl/values.sed: $(B)/ttl/values
	$< >$@.tmp && mv $@.tmp $@

TTL_PARTS := head plugin controls audio-stereo audio-mono
$(LV2_DIR)/provmark.ttl: $(TTL_PARTS:%=ttl/%.ttl.in) $(B)/ttl/values.sed
	@mkdir -p $(dir $@)
	{ cat ttl/head.ttl.in; \
	  for v in stereo mono; do \
	    cat ttl/plugin.ttl.in ttl/controls.ttl.in ttl/audio-$$v.ttl.in | \
	      sed -e "s|@URI@|@URI_$$(echo $$v | tr a-z A-Z)@|g" -e "s|@VARIANT@|$$v|g"; \
	  done; } | sed -f $(B)/ttl/values.sed >$@.tmp
	@if grep -n '@[A-Z_0-9]*@' $@.tmp; then echo "unfilled template values" >&2; exit 1; fi
	mv $@.tmp $@

$(LV2_DIR)/manifest.ttl: ttl/manifest.ttl.in $(B)/ttl/values.sed
	@mkdir -p $(dir $@)
	sed -f $(B)/ttl/values.sed $< >$@

lv2: $(LV2_DIR)/provmark.so $(LV2_DIR)/manifest.ttl $(LV2_DIR)/provmark.ttl
all: lv2

install-lv2: lv2
	install -d $(DESTDIR)$(PREFIX)/lib/lv2/provmark.lv2
	install -m 644 $(LV2_DIR)/*.ttl $(DESTDIR)$(PREFIX)/lib/lv2/provmark.lv2/
	install -m 755 $(LV2_DIR)/provmark.so $(DESTDIR)$(PREFIX)/lib/lv2/provmark.lv2/
install: install-lv2

install-user: lv2
	install -d $(HOME)/.lv2/provmark.lv2
	install -m 644 $(LV2_DIR)/*.ttl $(HOME)/.lv2/provmark.lv2/
	install -m 755 $(LV2_DIR)/provmark.so $(HOME)/.lv2/provmark.lv2/

.PHONY: lv2 install-lv2 install-user

# -rdynamic: the host's interposed malloc/stdio/lock functions must be seen by the plugin.
$(B)/tests/lv2host: tests/host/lv2host.c bench/timing.h plugin/ports.h $(B)/lib/libprovmark.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Wno-format-truncation -Ibench -Iplugin $$(pkg-config --cflags lilv-0) -rdynamic \
		-o $@ $< $(B)/lib/libprovmark.a $$(pkg-config --libs lilv-0) -lsndfile $(LIBS_DSP) -ldl

tests: $(B)/tests/lv2host lv2

test-hosts: deps-test
	@scripts/deps.sh hosts
	$(MAKE) tests
	@out=$$(sh tests/hosts.sh); echo "$$out"; \
	 p=$$(echo "$$out" | grep -c '^ok '); f=$$(echo "$$out" | grep -c '^FAIL '); \
	 echo "$$p passed, $$f failed"; [ "$$f" -eq 0 ]

.PHONY: test-hosts

# The Debian packages of debian/: built by dpkg-buildpackage from a copy of the tree,
# lintian, installed with dpkg -i, each used, purged (scripts/test-packages.sh). Root.
# make test runs the same (tests/run.sh: the build beside the other suites, the rest after
# them); this target is the package test alone.
test-packages: deps-test
	@scripts/deps.sh packages
	@out=$$(scripts/test-packages.sh); echo "$$out"; \
	 p=$$(echo "$$out" | grep -c '^ok '); f=$$(echo "$$out" | grep -c '^FAIL '); \
	 echo "$$p passed, $$f failed"; [ "$$f" -eq 0 ] && [ "$$p" -gt 0 ]

.PHONY: test-packages

# ---------------------------------------------------------------- sanitizer build
# The library, plugin and test programs again with AddressSanitizer and
# UndefinedBehaviorSanitizer, in build/asan (tests/run.sh runs them too). Without
# UBSan's pointer-overflow check: it guards every pointer step of the DSP loops and cost a
# quarter of the suites' sanitized run time (detecting 60 s: 2.2 -> 1.7 s), while a pointer
# that leaves its buffer is ASan's to catch when it is used. The fuzzers keep it (FUZZ_SAN).
ASAN_FLAGS := -O2 -g -fsanitize=address,undefined -fno-sanitize=pointer-overflow \
	-fno-omit-frame-pointer -fno-sanitize-recover=all

asan:
	$(MAKE) B=build/asan OPT="$(ASAN_FLAGS)" LDFLAGS="$(ASAN_FLAGS)" \
		$(TEST_SRC:tests/unit/%.c=build/asan/tests/%) build/asan/tests/lv2host build/asan/lv2/provmark.lv2/provmark.so \
		build/asan/lv2/provmark.lv2/manifest.ttl build/asan/lv2/provmark.lv2/provmark.ttl \
		build/asan/bin/provmark

tests: asan

# ThreadSanitizer: the library, plugin and lilv host, for the parallel key loads (tests/asan.sh).
TSAN_FLAGS := -O1 -g -fsanitize=thread
tsan:
	$(MAKE) B=build/tsan OPT="$(TSAN_FLAGS)" LDFLAGS="$(TSAN_FLAGS)" build/tsan/tests/lv2host \
		build/tsan/lv2/provmark.lv2/provmark.so build/tsan/lv2/provmark.lv2/manifest.ttl \
		build/tsan/lv2/provmark.lv2/provmark.ttl

tests: tsan

# The sanitizer set alone: unit tests, the plugin in a host, every command-line suite.
test-asan: deps-test
	$(MAKE) asan
	tests/run.sh asan

.PHONY: asan test-asan tsan

# ---------------------------------------------------------------- static analysis
TIDY_CHECKS := -*,clang-analyzer-*,bugprone-*,-bugprone-easily-swappable-parameters,\
-bugprone-narrowing-conversions,-bugprone-implicit-widening-of-multiplication-result,\
-bugprone-reserved-identifier,-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling

LINT_INC := -Iinclude -Idsp -Ifingerprint -Iplugin -Icli -Ibench
LINT_DIRS := dsp fingerprint cli bench ttl examples/c tests/unit tests/failalloc
TIDY_SRC := $(wildcard dsp/*.c fingerprint/*.c cli/*.c plugin/*.c ttl/*.c bench/*.c examples/c/*.c tests/failalloc/*.c)
# One clang-tidy per file, so that make -j spreads them over the cores (no file is
# made: every lint runs them all).
lint: lint-cppcheck $(TIDY_SRC:%=lint-tidy/%)

lint-cppcheck:
	cppcheck --quiet --force --error-exitcode=1 --enable=warning,performance,portability --std=c11 \
		$(LINT_INC) --suppress=missingIncludeSystem $(LINT_DIRS)
	cppcheck --quiet --force --error-exitcode=1 --enable=warning,performance,portability --std=c11 \
		$(LINT_INC) --suppress=missingIncludeSystem plugin tests/host

lint-tidy/%: %
	@clang-tidy --quiet --warnings-as-errors='*' -checks='$(TIDY_CHECKS)' $< \
		-- -std=c11 -D_DEFAULT_SOURCE $(LINT_INC) 2>/dev/null

.PHONY: lint lint-cppcheck

# ---------------------------------------------------------------- fuzzing
# libFuzzer harnesses (clang, ASan + UBSan): audio files through the detector and the
# fingerprinter, the files read by path (key, registry, manifest, index), plugin state.
# `make fuzz` runs each for FUZZ_SECONDS from the committed seeds in fuzz/corpus/NAME;
# what it learns goes to build/fuzz/corpus-NAME, crashes to build/fuzz/NAME-crash-*.
FUZZ_SECONDS ?= 60
# The libraries again, instrumented for the fuzzers (clang, coverage, ASan + UBSan).
FUZZ_SAN := -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_B := $(B)/fuzz/build
FUZZ_CFLAGS := -std=c11 -D_DEFAULT_SOURCE $(FUZZ_SAN) -fsanitize=fuzzer -Iinclude -Icli -Ifingerprint -Iplugin
FUZZ_LIBS := -lsndfile -lsoxr -ljansson $(LIBS_DSP)
FUZZERS := audio files state

fuzz-libs:
	$(MAKE) B=$(FUZZ_B) CC=clang WERROR=0 OPT="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" \
		$(FUZZ_B)/lib/libpmcli.a $(FUZZ_B)/lib/libpmfp.a $(FUZZ_B)/lib/libprovmark-internal.a $(FUZZ_B)/lib/libpmlv2.a

$(B)/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz-libs
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_B)/lib/libpmlv2.a $(FUZZ_B)/lib/libpmcli.a \
		$(FUZZ_B)/lib/libpmfp.a $(FUZZ_B)/lib/libprovmark-internal.a $(FUZZ_LIBS)

fuzz-build: $(FUZZERS:%=$(B)/fuzz/fuzz_%)

fuzz: deps-fuzz
	$(MAKE) fuzz-build
	@for f in $(FUZZERS); do \
	  mkdir -p $(B)/fuzz/corpus-$$f; \
	  echo "fuzz_$$f: $(FUZZ_SECONDS) s"; \
	  $(B)/fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -close_fd_mask=2 \
	    -print_final_stats=1 -artifact_prefix=$(B)/fuzz/$$f- \
	    $(B)/fuzz/corpus-$$f fuzz/corpus/$$f 2>$(B)/fuzz/$$f.log || { tail -40 $(B)/fuzz/$$f.log; exit 1; }; \
	  grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' $(B)/fuzz/$$f.log; \
	done

deps-fuzz:
	@scripts/deps.sh fuzz

.PHONY: fuzz fuzz-build fuzz-libs deps-fuzz

# ---------------------------------------------------------------- report picture
# docs/report.png (README): a 55-file scan of real music rendered by headless Chromium.
report-example: deps-test
	$(MAKE) all
	scripts/report-example.sh

.PHONY: report-example
