/* Fuzz target: the card's APDU processor (lib/card/card.c), driven by a
 * script of steps over one card. The card (PINs set, both key pairs
 * generated, certificates and 券面事項 written) is made once and restored
 * from its image before every input, so inputs are independent.
 *
 * Input: steps, each starting with an opcode byte:
 *   0x00 n_hi n_lo <n bytes>  one command APDU (n <= 4096)
 *   0x01                      card reset (power off/on)
 *   0x02                      issuer authentication with the right key
 *   0x03                      a READ BINARY answered into a 2-byte buffer
 * Every response must be at least the two status bytes and fit the
 * buffer; after each step the card's invariants must hold (tries never
 * above max, a blocked PIN never verified, the image still decodes). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "card/card_internal.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *image;
static size_t image_len;
static EVP_PKEY *issuer;
static uint8_t resp[JPKI_CARD_RESP_MAX];

static void die(const char *what)
{
	fprintf(stderr, "fuzz_apdu: %s\n", what);
	abort();
}

static void setup(void)
{
	uint8_t pub[32];
	size_t publen = sizeof pub;
	struct jpki_errbuf eb = {{0}};
	struct jpki_card *c = NULL;
	struct jpki_term t;
	uint8_t *spki;
	size_t n;
	static const uint8_t blob[300] = {0x30, 0x82, 0x01, 0x28};
	issuer = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (issuer == NULL || EVP_PKEY_get_raw_public_key(issuer, pub, &publen) != 1)
		die("issuer key");
	struct jpki_card_init in = {
	    .pin = {"ABC123", "1234", "5678", "4321"},
	    .issuer_pub = pub,
	    .municipality = "131016",
	    .holder_name = "山田 太郎",
	    .holder_address = "東京都豊島区南池袋一丁目1番1号",
	    .holder_birth = 7395, /* 1990-04-01 */
	    .holder_sex = 1,
	    .holder_number = "123456789018",
	    .pbkdf2_iterations = 1,
	};
	if (jpki_card_create_memory(&in, &c, &eb) != JPKI_OK)
		die(eb.msg);
	jpki_term_local(&t, c);
	if (jpki_term_issuer_auth(&t, issuer, &eb) != JPKI_OK)
		die(eb.msg);
	for (int k = 0; k < 2; k++) {
		if (jpki_term_keygen(&t, k, &spki, &n, &eb) != JPKI_OK)
			die(eb.msg);
		free(spki);
	}
	/* Certificate-shaped contents: what matters here is their length. */
	static const uint16_t fids[4] = {JPKI_EF_SIGN_CERT, JPKI_EF_SIGN_CA,
					 JPKI_EF_AUTH_CERT, JPKI_EF_AUTH_CA};
	for (int i = 0; i < 4; i++)
		if (jpki_term_write_ef(&t, JPKI_APP_JPKI, fids[i], blob, sizeof blob,
				       &eb))
			die(eb.msg);
	if (jpkii_card_image(c, &image, &image_len) != JPKI_OK)
		die("image");
	jpki_card_close(c);
}

static void check(const struct jpki_card *c)
{
	for (int k = 0; k < 4; k++) {
		const struct jpkii_pin *p = &c->pin[k];
		if (p->tries > p->max || p->max != jpki_pin_max_tries(k))
			die("a PIN counter is out of range");
		if (c->verified[k] && (!p->set || p->tries == 0))
			die("a blocked or unset PIN is verified");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jpki_card *c = NULL;
	struct jpki_errbuf eb = {{0}};
	if (image == NULL)
		setup();
	if (jpkii_card_from_image(image, image_len, &c, &eb) != JPKI_OK)
		die(eb.msg);
	struct jpki_term t;
	jpki_term_local(&t, c);
	size_t off = 0;
	while (off < size) {
		uint8_t op = data[off++];
		if (op == 0x00) {
			if (size - off < 2)
				break;
			size_t n = (size_t)data[off] << 8 | data[off + 1];
			off += 2;
			if (n > 4096 || n > size - off)
				break;
			size_t m = jpki_card_apdu(c, data + off, n, resp, sizeof resp);
			if (m < 2 || m > sizeof resp)
				die("response length");
			off += n;
		} else if (op == 0x01) {
			jpki_card_reset(c);
		} else if (op == 0x02) {
			jpki_term_issuer_auth(&t, issuer, NULL);
		} else if (op == 0x03) {
			/* A tiny buffer: the processor must still answer in it. */
			uint8_t small[2];
			static const uint8_t read[5] = {0x00, 0xB0, 0x00, 0x00, 0x00};
			if (jpki_card_apdu(c, read, sizeof read, small, sizeof small) !=
			    2)
				die("small buffer");
		} else {
			break;
		}
		check(c);
	}
	/* What the card now holds must still be a card. */
	uint8_t *img = NULL;
	size_t len = 0;
	struct jpki_card *again = NULL;
	if (jpkii_card_image(c, &img, &len) != JPKI_OK ||
	    jpkii_card_from_image(img, len, &again, &eb) != JPKI_OK)
		die("the image does not decode after the script");
	jpki_card_close(again);
	OPENSSL_clear_free(img, len);
	jpki_card_close(c);
	return 0;
}
