# user_mgmt: PGXS build.  make && make install && make installcheck

EXTENSION = user_mgmt
MODULE_big = user_mgmt

# The plain-C core (no PostgreSQL headers) and the fmgr binding.
CORE_OBJS = src/core/blowfish.o src/core/blowfish_tables.o \
	src/core/bcrypt.o src/core/bcrypt_base64.o src/core/secure.o \
	src/core/base64url.o src/core/json_scan.o src/core/jws.o \
	src/core/uuid_text.o src/core/jws_pk.o src/core/hmac_sha256.o
OBJS = $(CORE_OBJS) src/user_mgmt.o src/password.o src/login_failures.o \
	src/signing_keys.o src/tokens.o src/session.o src/log_hygiene.o \
	src/login_guard.o src/login_writer.o src/accounts.o \
	src/session_cache.o src/session_functions.o src/session_writer.o \
	src/cache_triggers.o src/signing_key_functions.o

# Relative to the source directory, which is not "." in a VPATH build
# (pg_buildext builds the Debian package that way).
DATA = $(patsubst $(srcdir)/%,%,$(wildcard $(srcdir)/sql/user_mgmt--*.sql))

# pg_regress inputs: every sql/*.sql that is not an extension script, run in
# the order listed here (init creates the helpers the others use).
REGRESS = init roles table hashing verify lifecycle accounts auth_events tokens sessions keys migrations_catalog teardown
REGRESS_OPTS = --inputdir=. --encoding=UTF8 --load-extension=pgcrypto --load-extension=dblink

PG_CFLAGS = -Wall -Wextra
# EdDSA and ES256 (1.5) sign and verify with OpenSSL's libcrypto.
SHLIB_LINK += -lcrypto
# PostgreSQL's own headers are not -Wextra clean: read them as system headers.
PG_CPPFLAGS = -isystem $(shell $(PG_CONFIG) --includedir-server)

# The Blowfish inner loop is the product's hot path: see bench/.
$(CORE_OBJS): override CFLAGS += -O3 -fomit-frame-pointer

# The dependency files the compiler writes (see below).
EXTRA_CLEAN = $(OBJS:.o=.d)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# EdDSA and ES256 keys need libcrypto, which a PostgreSQL built with
# OpenSSL has: say so before compiling anything rather than at link time.
ifeq ($(shell grep -c '^\#define USE_OPENSSL 1' '$(includedir_server)/pg_config.h'),0)
$(error user_mgmt needs a PostgreSQL built with OpenSSL (configure --with-ssl=openssl); $(includedir_server)/pg_config.h does not define USE_OPENSSL)
endif

# Rebuild what includes a changed header (src/core's structs are shared
# with the binding): the compiler writes each object's dependencies.
override CFLAGS += -MMD -MP
-include $(OBJS:.o=.d)

# A VPATH build writes its objects under the build directory.
ifneq ($(VPATH),)
$(shell mkdir -p src/core)
endif

# libFuzzer on the plain-C core, outside the build (nothing above depends
# on it): FUZZ_SECONDS=N (default 10) or FUZZ_RUNS=N per target, see
# test/fuzz/run.sh.  Needs clang; e.g. make fuzz FUZZ_RUNS=10000000
.PHONY: fuzz
fuzz:
	bash $(srcdir)/test/fuzz/run.sh
