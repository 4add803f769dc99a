/* Fuzz target: the subject file of jpki ca issue (JSON, UTF-8 limits). */
#include <stddef.h>
#include <stdint.h>

#include "jpki/pki.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jpki_subject s;
	if (size > 65536)
		return 0;
	for (int k = JPKI_PKI_SIGN; k <= JPKI_PKI_AUTH; k++)
		if (jpki_subject_parse((const char *)data, size, (enum jpki_pki_kind)k, &s,
				       NULL) == JPKI_OK)
			jpki_subject_release(&s);
	return 0;
}
