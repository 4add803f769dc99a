/* openjpki — fees for certificates and cards (DOMAIN §5; seeds 001, 002). */
#ifndef JPKI_FEE_H
#define JPKI_FEE_H

#ifdef __cplusplus
extern "C" {
#endif

enum jpki_fee_case {
	JPKI_FEE_CERT_RENEWAL = 0, /* seed 002 Q1: 無料 */
	JPKI_FEE_CERT_FIRST_ISSUE, /* seed 001: 初回無料 (also after expiry) */
	JPKI_FEE_CERT_REISSUE_NEW_CARD, /* seed 001: 再交付したカードへの再発行 200円 */
	JPKI_FEE_CARD_RENEWAL_RETURNED,	    /* seed 002 Q7: old card returned, 無料 */
	JPKI_FEE_CARD_RENEWAL_NOT_RETURNED, /* 1,000円 */
	JPKI_FEE_CARD_RENEWAL_NOT_RETURNED_NO_CERTS, /* 800円 */
};

/* The fee in yen; -1 for an unknown case. */
int jpki_fee_yen(enum jpki_fee_case c);

#ifdef __cplusplus
}
#endif
#endif
