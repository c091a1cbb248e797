# SPDX-License-Identifier: BSD-2-Clause
# Thin wrapper over CMake: the short commands the README shows.
#   make            build the library, tools, examples (Release, -O2 -g)
#                   into build/: needs only a C compiler, make and CMake
#   make test       install missing deps, build with the tests, run them
#   make test-asan  the same suite under ASan + UBSan in build/asan
#   make fuzz       run every libFuzzer target for FUZZ_SECONDS (default 60)
#   make demo       Homa vs TCP on an emulated cluster (W4, 80 % load)
#   make install    install library, header, pkg-config and CMake files
#   make clean      remove build/
BUILD ?= build
CONFIG ?= Release
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60
CMAKE_FLAGS ?=
# What scripts/deps.sh installs (it says what and why): for make and
# make install only the build tools; for make test also the test tools
# and, as root, the network tools.
DEPS ?= build
# The test tree (cmocka programs, fuzz and TSan builds) is configured by
# make test, and stays on in that build directory once it is (CMake's
# cache); a fresh make leaves it off (CMakeLists.txt's default).
# (It is expanded in the configure recipe, not here: make test sets it as
# a target-specific variable, which its prerequisites inherit.)
TESTS ?=
ifeq ($(HOMA_WERROR),1)
CMAKE_FLAGS += -DHOMA_WERROR=ON
endif
ifdef PREFIX
CMAKE_FLAGS += -DCMAKE_INSTALL_PREFIX=$(PREFIX)
endif

.PHONY: all deps configure test test-asan fuzz install clean format demo

all: configure
	cmake --build $(BUILD) -j $(JOBS)

deps:
	@./scripts/deps.sh $(DEPS)

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(CONFIG) \
		$(if $(TESTS),-DBUILD_TESTING=$(TESTS)) $(CMAKE_FLAGS) >/dev/null

test fuzz: DEPS = net
test fuzz: TESTS = ON
test: all
	cd $(BUILD) && ctest --no-tests=error --output-on-failure -j $(JOBS) $(CTEST_FLAGS)

test-asan:
	$(MAKE) test BUILD=build/asan CONFIG=Asan

fuzz: all
	cd $(BUILD) && HOMA_FUZZ_SECONDS=$(FUZZ_SECONDS) ctest --output-on-failure -L fuzz

demo:
	@./scripts/deps.sh demo
	@$(MAKE) --no-print-directory all
	./scripts/demo.sh

install: all
	cmake --install $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)
