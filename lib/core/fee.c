/* Fees (DOMAIN §5). */
#include "jpki/fee.h"
#include "banned.h"

int jpki_fee_yen(enum jpki_fee_case c)
{
	switch (c) {
	case JPKI_FEE_CERT_RENEWAL:	/* seed 002 Q1 */
	case JPKI_FEE_CERT_FIRST_ISSUE: /* seed 001: 初回無料; seed 004 after expiry */
	case JPKI_FEE_CARD_RENEWAL_RETURNED: /* seed 002 Q7 */
		return 0;
	case JPKI_FEE_CERT_REISSUE_NEW_CARD: /* seed 001 */
		return 200;
	case JPKI_FEE_CARD_RENEWAL_NOT_RETURNED: /* seed 002 Q7 */
		return 1000;
	case JPKI_FEE_CARD_RENEWAL_NOT_RETURNED_NO_CERTS: /* seed 002 Q7 */
		return 800;
	default:
		return -1;
	}
}
