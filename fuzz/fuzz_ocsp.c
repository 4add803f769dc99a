/* Fuzz target: OCSP requests answered by a CA (RFC 6960 parsing, issuer
 * matching, the in-memory and stored response paths). The CA is created
 * once, in a temporary directory, with unencrypted keys. Every input must
 * get a DER response that parses back. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ocsp.h>

#include "jpki/pki.h"
#include "jpki/store.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct jpki_store *store;
static struct jpki_ca *ca;
static int64_t now;
static char dir[] = "/tmp/jpki-fuzz-ocsp-XXXXXX";

/* Leaves nothing behind in /tmp. */
static void teardown(void)
{
	char cmd[128];
	jpki_ca_close(ca);
	jpki_store_close(store);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_ocsp: could not remove %s\n", dir);
}

static void setup(void)
{
	char db[64], keys[64];
	struct jpki_errbuf eb = {{0}};
	struct jpki_municipality m;
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(db, sizeof db, "%s/s.db", dir);
	snprintf(keys, sizeof keys, "%s/keys", dir);
	now = (int64_t)time(NULL);
	jpki_municipality_parse("131016:千代田区", &m, &eb);
	struct jpki_ca_init_opts o = {.base_url = "http://127.0.0.1:8080",
				      .key_bits = 2048,
				      .crl_hours = 24,
				      .ocsp_days = 4,
				      .munis = &m,
				      .n_munis = 1,
				      .insecure_no_passphrase = true,
				      .now = now};
	if (jpki_store_open(db, &store, &eb) || jpki_ca_init(store, keys, &o, &eb) ||
	    jpki_ca_open(store, keys, NULL, &ca, &eb)) {
		fprintf(stderr, "fuzz_ocsp: setup: %s\n", eb.msg);
		abort();
	}
	atexit(teardown);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (ca == NULL)
		setup();
	unsigned char *resp = NULL;
	size_t len = 0;
	struct jpki_ocsp_stats st;
	struct jpki_errbuf eb = {{0}};
	jpki_err rc_ = jpki_ca_ocsp(ca, data, size, now, &resp, &len, &st, &eb);
	if (rc_ != JPKI_OK) {
		fprintf(stderr, "fuzz_ocsp: no answer (%d, %zu bytes): %s\n", (int)rc_, size, eb.msg);
		__builtin_trap(); /* the store works: every input gets an answer */
	}
	const unsigned char *p = resp;
	OCSP_RESPONSE *r = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
	if (r == NULL || p != resp + len)
		__builtin_trap();
	OCSP_RESPONSE_free(r);
	OPENSSL_free(resp);
	return 0;
}
