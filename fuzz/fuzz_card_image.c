/* Fuzz target: the card image decoder (lib/card/image.c). Any input must
 * be refused cleanly or decode into a card whose image decodes again to
 * the same bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "card/card_internal.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jpki_card *c = NULL;
	if (jpkii_card_from_image(data, size, &c, NULL) != JPKI_OK)
		return 0;
	uint8_t *img = NULL;
	size_t len = 0;
	if (jpkii_card_image(c, &img, &len) != JPKI_OK) {
		fprintf(stderr, "fuzz_card_image: a decoded card does not encode\n");
		abort();
	}
	struct jpki_card *again = NULL;
	uint8_t *img2 = NULL;
	size_t len2 = 0;
	if (jpkii_card_from_image(img, len, &again, NULL) != JPKI_OK ||
	    jpkii_card_image(again, &img2, &len2) != JPKI_OK || len2 != len ||
	    memcmp(img, img2, len) != 0) {
		fprintf(stderr, "fuzz_card_image: re-encoding is not stable\n");
		abort();
	}
	OPENSSL_clear_free(img, len);
	OPENSSL_clear_free(img2, len2);
	jpki_card_close(again);
	jpki_card_close(c);
	return 0;
}
