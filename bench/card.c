/* bench/card: the virtual card's speed beside its physical limits.
 *
 * Prints, on one pinned core:
 *   - signatures per second through the APDU path (SELECT key EF + COMPUTE
 *     DIGITAL SIGNATURE, parsed and answered by the card), next to the same
 *     key signing through OpenSSL's API alone in this process and to
 *     `openssl speed rsa2048` run in the same process tree (the peer);
 *   - key generations per second through GENERATE ASYMMETRIC KEY PAIR, next
 *     to EVP_RSA_gen(2048) alone (RSA key generation time varies a lot
 *     from key to key: both run the same number of keys);
 *   - PIN verifications per second on a card file (PBKDF2 with the
 *     default iterations and two durable writes of the card per VERIFY:
 *     the counter goes down on disk before the compare, back up after),
 *     next to this disk's fsync rate.
 *
 * usage: bench_card [KEYGENS]   (default 20)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "jpki/card.h"
#include "common.h"
#include "banned.h"

static void die(const char *what, const struct jpki_errbuf *eb)
{
	fprintf(stderr, "bench_card: %s: %s\n", what, eb ? eb->msg : "");
	exit(3);
}

/* `openssl speed -mr rsa2048`: "+F2:k:2048:SIGN/S:VERIFY/S". */
static const uint8_t digest_info[51] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
					0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
					0x01, 0x05, 0x00, 0x04, 0x20, 0x42};

int main(int argc, char **argv)
{
	int keygens = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 20;
	if (keygens < 1)
		keygens = 20;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof set, &set);

	struct jpki_errbuf eb = {{0}};
	uint8_t pub[32];
	size_t publen = sizeof pub;
	EVP_PKEY *issuer = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!issuer || EVP_PKEY_get_raw_public_key(issuer, pub, &publen) != 1)
		die("issuer key", NULL);
	struct jpki_card_init in = {.pin = {"ABC123", "1234", "5678", "4321"},
				    .issuer_pub = pub,
				    .municipality = "131016"};
	struct jpki_card *c = NULL;
	struct jpki_term t;
	uint8_t *spki;
	size_t n;
	if (jpki_card_create_memory(&in, &c, &eb) != JPKI_OK)
		die("card", &eb);
	jpki_term_local(&t, c);
	if (jpki_term_issuer_auth(&t, issuer, &eb) != JPKI_OK)
		die("issuer auth", &eb);

	/* Key generation: the card's GENERATE vs EVP_RSA_gen. */
	double t0 = bench_now();
	for (int i = 0; i < keygens; i++) {
		if (jpki_term_keygen(&t, JPKI_KEY_AUTH, &spki, &n, &eb) != JPKI_OK)
			die("keygen", &eb);
		free(spki);
	}
	double card_kg = keygens / (bench_now() - t0);
	t0 = bench_now();
	for (int i = 0; i < keygens; i++)
		EVP_PKEY_free(EVP_RSA_gen(2048));
	double raw_kg = keygens / (bench_now() - t0);

	/* Signatures through the APDU path. */
	enum jpki_verify_result res;
	int tries;
	uint8_t sig[256];
	size_t sl;
	if (jpki_term_verify(&t, JPKI_PIN_AUTH, "1234", 4, &res, &tries, &eb) !=
		JPKI_OK ||
	    res != JPKI_VERIFY_OK)
		die("verify", &eb);
	long sigs = 0;
	t0 = bench_now();
	double el;
	do {
		if (jpki_term_sign(&t, JPKI_KEY_AUTH, digest_info, sizeof digest_info,
				   sig, &sl, &eb) != JPKI_OK)
			die("sign", &eb);
		sigs++;
	} while ((el = bench_now() - t0) < 3.0);
	double card_sig = sigs / el;

	/* The same key through OpenSSL alone: the card's key is not exported,
	 * so use a fresh RSA-2048 key, as the card's is. */
	EVP_PKEY *k = EVP_RSA_gen(2048);
	EVP_PKEY_CTX *x = EVP_PKEY_CTX_new(k, NULL);
	if (!x || EVP_PKEY_sign_init(x) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(x, RSA_PKCS1_PADDING) <= 0)
		die("raw sign", NULL);
	sigs = 0;
	t0 = bench_now();
	do {
		sl = sizeof sig;
		if (EVP_PKEY_sign(x, sig, &sl, digest_info, sizeof digest_info) <= 0)
			die("raw sign", NULL);
		sigs++;
	} while ((el = bench_now() - t0) < 3.0);
	double raw_sig = sigs / el;
	EVP_PKEY_CTX_free(x);
	EVP_PKEY_free(k);
	jpki_card_close(c);

	/* PIN verification on a card file. */
	char dir[] = "/tmp/jpki-bench-card-XXXXXX", path[64];
	if (mkdtemp(dir) == NULL)
		die("mkdtemp", NULL);
	snprintf(path, sizeof path, "%s/card", dir);
	in.now = 0;
	if (jpki_card_create(path, &in, &c, &eb) != JPKI_OK)
		die("card file", &eb);
	jpki_term_local(&t, c);
	long verifies = 0;
	t0 = bench_now();
	do {
		if (jpki_term_verify(&t, JPKI_PIN_AUTH, "1234", 4, &res, &tries, &eb) !=
			JPKI_OK ||
		    res != JPKI_VERIFY_OK)
			die("verify", &eb);
		verifies++;
	} while ((el = bench_now() - t0) < 2.0);
	double ver = verifies / el;
	jpki_card_close(c);
	double fs = bench_fsync_rate(dir, 8192, 1);
	unlink(path);
	rmdir(dir);

	double peer = bench_openssl_rsa2048();
	printf("bench/card (one core; RSA-2048, PKCS#1 v1.5)\n");
	printf("signatures through the APDU path               %9.0f sign/s\n",
	       card_sig);
	printf("  same-size key, OpenSSL API alone (this run)  %9.0f sign/s  (card at "
	       "%.0f%%)\n",
	       raw_sig, 100.0 * card_sig / raw_sig);
	if (peer > 0)
		printf("  peer: openssl speed rsa2048                  %9.0f sign/s  "
		       "(card "
		       "at %.0f%%)\n",
		       peer, 100.0 * card_sig / peer);
	else
		printf("  peer: openssl speed rsa2048 did not run\n");
	printf("key generations through GENERATE (%d keys)     %9.2f keys/s\n", keygens,
	       card_kg);
	printf("  EVP_RSA_gen(2048) alone (%d keys)            %9.2f keys/s\n", keygens,
	       raw_kg);
	printf("PIN verifications on a card file               %9.1f /s  (PBKDF2 %u "
	       "iterations, 2 durable writes each)\n",
	       ver, JPKI_CARD_PBKDF2_ITER);
	printf("  this disk's fsync rate (8 KiB)               %9.1f /s  (limit %.1f "
	       "verifications/s: 4 fsyncs each, file and directory twice)\n",
	       fs, fs / 4);
	EVP_PKEY_free(issuer);
	return 0;
}
