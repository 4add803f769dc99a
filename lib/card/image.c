/* The card image: one file per card, the chip's memory.
 *
 * Layout (version 1, all integers big-endian):
 *   "JPKICARD" | u16 version | u16 0
 *   records:  u16 tag | u32 length | value
 *   trailer:  u16 0xFFFF | u32 32 | SHA-256 of every byte before the trailer
 * Tags: 1 serial (16), 2 created (i64 Unix seconds), 3 issuer public key
 * (32, Ed25519), 4 municipality (6 digits), 0x10 PIN object (kind, set,
 * tries, max, u32 iterations, salt 16, hash 32), 0x20 key (key, DER
 * RSAPrivateKey), 0x30 data EF (slot, bytes). Unknown tags, duplicates,
 * short records and a bad checksum are refused: a damaged card is never
 * half-read.
 *
 * Writes are atomic: a temporary file in the same directory (mode 0600),
 * fsync, rename over the card, fsync of the directory. The new file is
 * locked before it is renamed into place, so the lock never lapses.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "card_internal.h"
#include "banned.h"

#define MAGIC	 "JPKICARD"
#define VERSION	 1
#define MAX_FILE (1u << 20)

enum {
	T_SERIAL = 1,
	T_CREATED = 2,
	T_ISSUER = 3,
	T_MUNI = 4,
	T_PIN = 0x10,
	T_KEY = 0x20,
	T_EF = 0x30,
	T_END = 0xFFFF,
};

/* ---- a growable buffer that is wiped when freed ---- */

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	bool failed;
};

static void wb_put(struct wbuf *b, const void *data, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 8192;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *p = malloc(cap);
		if (p == NULL) {
			b->failed = true;
			return;
		}
		if (b->p) {
			memcpy(p, b->p, b->len);
			OPENSSL_cleanse(b->p, b->cap);
			free(b->p);
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void wb_u16(struct wbuf *b, unsigned v)
{
	uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	wb_put(b, x, 2);
}

static void wb_u32(struct wbuf *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
			(uint8_t)v};
	wb_put(b, x, 4);
}

static void wb_rec(struct wbuf *b, unsigned tag, const void *v, size_t n)
{
	wb_u16(b, tag);
	wb_u32(b, (uint32_t)n);
	wb_put(b, v, n);
}

static void wb_free(struct wbuf *b)
{
	if (b->p) {
		OPENSSL_cleanse(b->p, b->cap);
		free(b->p);
	}
	*b = (struct wbuf){0};
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- encode ---- */

static jpki_err encode(const struct jpki_card *c, struct wbuf *b)
{
	uint8_t v[64];
	wb_put(b, MAGIC, 8);
	wb_u16(b, VERSION);
	wb_u16(b, 0);
	wb_rec(b, T_SERIAL, c->serial, sizeof c->serial);
	for (int i = 0; i < 8; i++)
		v[i] = (uint8_t)((uint64_t)c->created >> (56 - 8 * i));
	wb_rec(b, T_CREATED, v, 8);
	wb_rec(b, T_ISSUER, c->issuer_pub, 32);
	wb_rec(b, T_MUNI, c->muni, 6);
	for (int k = 0; k < 4; k++) {
		const struct jpkii_pin *p = &c->pin[k];
		v[0] = (uint8_t)k;
		v[1] = p->set;
		v[2] = p->tries;
		v[3] = p->max;
		v[4] = (uint8_t)(p->iter >> 24);
		v[5] = (uint8_t)(p->iter >> 16);
		v[6] = (uint8_t)(p->iter >> 8);
		v[7] = (uint8_t)p->iter;
		memcpy(v + 8, p->salt, 16);
		memcpy(v + 24, p->hash, 32);
		wb_rec(b, T_PIN, v, 56);
	}
	for (int k = 0; k < 2; k++) {
		if (c->key[k] == NULL)
			continue;
		unsigned char *der = NULL;
		int n = i2d_PrivateKey(c->key[k], &der);
		if (n <= 0)
			return JPKI_ERR_CRYPTO;
		wb_u16(b, T_KEY);
		wb_u32(b, (uint32_t)n + 1);
		v[0] = (uint8_t)k;
		wb_put(b, v, 1);
		wb_put(b, der, (size_t)n);
		OPENSSL_clear_free(der, (size_t)n);
	}
	for (int s = 0; s < SLOT_N; s++) {
		if (c->slot[s].len == 0)
			continue;
		wb_u16(b, T_EF);
		wb_u32(b, (uint32_t)c->slot[s].len + 1);
		v[0] = (uint8_t)s;
		wb_put(b, v, 1);
		wb_put(b, c->slot[s].data, c->slot[s].len);
	}
	if (b->failed)
		return JPKI_ERR_NOMEM;
	uint8_t md[32];
	SHA256(b->p, b->len, md);
	wb_rec(b, T_END, md, 32);
	return b->failed ? JPKI_ERR_NOMEM : JPKI_OK;
}

/* ---- decode ---- */

static jpki_err bad(struct jpki_errbuf *eb, const char *why)
{
	return jpki_errf(eb, JPKI_ERR_INVALID, "not a usable card file: %s", why);
}

static jpki_err decode(struct jpki_card *c, const uint8_t *p, size_t n,
		       struct jpki_errbuf *eb)
{
	if (n < 12 || memcmp(p, MAGIC, 8) != 0)
		return bad(eb, "no card header");
	unsigned version = (unsigned)p[8] << 8 | p[9];
	if (version != VERSION)
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "card file version %u; this build reads version %d",
				 version, VERSION);
	if (p[10] != 0 || p[11] != 0)
		return bad(eb, "reserved header bytes are not zero");
	unsigned seen = 0; /* bit per singleton tag, PIN kind and key */
	size_t off = 12;
	for (;;) {
		if (n - off < 6)
			return bad(eb, "truncated");
		unsigned tag = (unsigned)p[off] << 8 | p[off + 1];
		uint32_t len = get_u32(p + off + 2);
		const uint8_t *v = p + off + 6;
		if (len > n - off - 6)
			return bad(eb, "truncated record");
		if (tag == T_END) {
			uint8_t md[32];
			SHA256(p, off, md);
			if (len != 32 || off + 6 + 32 != n)
				return bad(eb, "bad trailer");
			if (CRYPTO_memcmp(md, v, 32) != 0)
				return bad(eb, "checksum mismatch (damaged)");
			break;
		}
		unsigned bit;
		switch (tag) {
		case T_SERIAL:
			if (len != 16)
				return bad(eb, "serial");
			memcpy(c->serial, v, 16);
			bit = 0;
			break;
		case T_CREATED:
			if (len != 8)
				return bad(eb, "creation time");
			c->created = 0;
			for (int i = 0; i < 8; i++)
				c->created =
				    (int64_t)((uint64_t)c->created << 8 | v[i]);
			bit = 1;
			break;
		case T_ISSUER:
			if (len != 32)
				return bad(eb, "issuer key");
			memcpy(c->issuer_pub, v, 32);
			bit = 2;
			break;
		case T_MUNI:
			if (len != 6)
				return bad(eb, "municipality");
			for (int i = 0; i < 6; i++)
				if (v[i] < '0' || v[i] > '9')
					return bad(eb, "municipality");
			memcpy(c->muni, v, 6);
			c->muni[6] = '\0';
			bit = 3;
			break;
		case T_PIN: {
			if (len != 56 || v[0] > 3)
				return bad(eb, "PIN object");
			struct jpkii_pin *pin = &c->pin[v[0]];
			int max = jpki_pin_max_tries(v[0]);
			pin->set = v[1] != 0;
			pin->tries = v[2];
			pin->max = v[3];
			pin->iter = get_u32(v + 4);
			if (v[1] > 1 || pin->max != max || pin->tries > max ||
			    pin->iter == 0 || pin->iter > JPKI_CARD_PBKDF2_MAX)
				return bad(eb, "PIN object");
			memcpy(pin->salt, v + 8, 16);
			memcpy(pin->hash, v + 24, 32);
			bit = 4u + v[0];
			break;
		}
		case T_KEY: {
			if (len < 2 || v[0] > 1)
				return bad(eb, "key");
			const unsigned char *d = v + 1;
			EVP_PKEY *k =
			    d2i_PrivateKey(EVP_PKEY_RSA, NULL, &d, (long)len - 1);
			if (k == NULL || d != v + len || EVP_PKEY_get_bits(k) != 2048) {
				EVP_PKEY_free(k);
				return bad(eb, "key");
			}
			if (seen & (1u << (8u + v[0]))) {
				EVP_PKEY_free(k);
				return bad(eb, "duplicate key");
			}
			c->key[v[0]] = k;
			bit = 8u + v[0];
			break;
		}
		case T_EF:
			if (len < 2 || v[0] >= SLOT_N || len - 1 > JPKI_CARD_EF_MAX)
				return bad(eb, "data file");
			if (seen & (1u << (10u + v[0])))
				return bad(eb, "duplicate data file");
			if ((c->slot[v[0]].data = malloc(len - 1)) == NULL)
				return JPKI_ERR_NOMEM;
			memcpy(c->slot[v[0]].data, v + 1, len - 1);
			c->slot[v[0]].len = len - 1;
			bit = 10u + v[0];
			break;
		default:
			return bad(eb, "unknown record");
		}
		if (seen & (1u << bit))
			return bad(eb, "duplicate record");
		seen |= 1u << bit;
		off += 6 + len;
	}
	if ((seen & 0xFF) != 0xFF)
		return bad(eb, "a record is missing");
	return JPKI_OK;
}

jpki_err jpkii_card_image(const struct jpki_card *c, uint8_t **out, size_t *len)
{
	struct wbuf b = {0};
	jpki_err rc = encode(c, &b);
	if (rc != JPKI_OK) {
		wb_free(&b);
		return rc;
	}
	*out = b.p;
	*len = b.len;
	return JPKI_OK;
}

static struct jpki_card *card_alloc(void);

jpki_err jpkii_card_from_image(const uint8_t *p, size_t n, struct jpki_card **out,
			       struct jpki_errbuf *eb)
{
	struct jpki_card *c = card_alloc();
	if (c == NULL)
		return JPKI_ERR_NOMEM;
	jpki_err rc = decode(c, p, n, eb);
	if (rc != JPKI_OK) {
		jpki_card_close(c);
		return rc;
	}
	c->writable = true;
	*out = c;
	return JPKI_OK;
}

/* ---- files ---- */

static jpki_err read_all(int fd, const char *path, uint8_t **out, size_t *len,
			 struct jpki_errbuf *eb)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return jpki_errf(eb, JPKI_ERR_IO, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)MAX_FILE)
		return jpki_errf(eb, JPKI_ERR_INVALID, "%s: not a card file", path);
	size_t n = (size_t)st.st_size;
	uint8_t *p = malloc(n ? n : 1);
	if (p == NULL)
		return JPKI_ERR_NOMEM;
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, p + got, n - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			OPENSSL_clear_free(p, n ? n : 1);
			return jpki_errf(eb, JPKI_ERR_IO, "%s: read failed", path);
		}
		got += (size_t)r;
	}
	*out = p;
	*len = n;
	return JPKI_OK;
}

static jpki_err dir_sync(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return JPKI_ERR_IO;
	int r = fsync(fd);
	close(fd);
	return r == 0 ? JPKI_OK : JPKI_ERR_IO;
}

static jpki_err write_fd(int fd, const uint8_t *p, size_t n, bool sync)
{
	for (size_t off = 0; off < n;) {
		ssize_t w = write(fd, p + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return JPKI_ERR_IO;
		off += (size_t)w;
	}
	return !sync || fsync(fd) == 0 ? JPKI_OK : JPKI_ERR_IO;
}

/* Writes the card to a new temporary file next to path, locked; returns
 * its descriptor and name. */
static jpki_err write_temp(const struct jpki_card *c, const char *path, int *fd_out,
			   char tmp[PATH_MAX], bool sync, struct jpki_errbuf *eb)
{
	struct wbuf b = {0};
	jpki_err rc = encode(c, &b);
	if (rc != JPKI_OK) {
		wb_free(&b);
		return jpki_errf(eb, rc, "cannot encode the card");
	}
	if (snprintf(tmp, PATH_MAX, "%s.XXXXXX", path) >= PATH_MAX) {
		wb_free(&b);
		return jpki_errf(eb, JPKI_ERR_INVALID, "%s: path too long", path);
	}
	int fd = mkstemp(tmp); /* mode 0600 */
	if (fd >= 0)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	if (fd < 0) {
		wb_free(&b);
		return jpki_errf(eb, JPKI_ERR_IO, "%s: %s", tmp, strerror(errno));
	}
	if (fchmod(fd, 0600) != 0 || flock(fd, LOCK_EX | LOCK_NB) != 0 ||
	    write_fd(fd, b.p, b.len, sync) != JPKI_OK) {
		rc = jpki_errf(eb, JPKI_ERR_IO, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		wb_free(&b);
		return rc;
	}
	wb_free(&b);
	*fd_out = fd;
	return JPKI_OK;
}

jpki_err jpkii_card_save(struct jpki_card *c, struct jpki_errbuf *eb)
{
	if (c->path == NULL)
		return JPKI_OK;
	if (!c->writable)
		return jpki_errf(eb, JPKI_ERR_REFUSED, "the card is open read-only");
	char tmp[PATH_MAX];
	int fd;
	jpki_err rc = write_temp(c, c->path, &fd, tmp, true, eb);
	if (rc != JPKI_OK)
		return rc;
	if (rename(tmp, c->path) != 0) {
		rc = jpki_errf(eb, JPKI_ERR_IO, "%s: %s", c->path, strerror(errno));
		close(fd);
		unlink(tmp);
		return rc;
	}
	/* The rename happened: the new file is the card now, and the caller
	 * must keep the new state, whatever the directory sync says (a
	 * failure here only means the rename may not survive a power cut). */
	dir_sync(c->path);
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	c->lock_fd = fd;
	return rc;
}

/* ---- life cycle ---- */

static jpki_err fill(struct jpki_card *c, const struct jpki_card_init *in,
		     struct jpki_errbuf *eb)
{
	if (in->issuer_pub == NULL || in->municipality == NULL ||
	    strlen(in->municipality) != 6 ||
	    strspn(in->municipality, "0123456789") != 6)
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "a card needs an issuer key and a municipality code");
	if (RAND_bytes(c->serial, sizeof c->serial) != 1)
		return jpki_errf(eb, JPKI_ERR_CRYPTO, "no randomness");
	c->created = in->now;
	memcpy(c->issuer_pub, in->issuer_pub, 32);
	memcpy(c->muni, in->municipality, 7);
	for (int k = 0; k < 4; k++) {
		struct jpkii_pin *p = &c->pin[k];
		p->max = (uint8_t)jpki_pin_max_tries(k);
		p->iter = in->pbkdf2_iterations ? in->pbkdf2_iterations
						: JPKI_CARD_PBKDF2_ITER;
		if (p->iter > JPKI_CARD_PBKDF2_MAX)
			return jpki_errf(eb, JPKI_ERR_RANGE,
					 "at most %u PBKDF2 iterations",
					 JPKI_CARD_PBKDF2_MAX);
		if (in->pin[k] == NULL) {
			if (k != JPKI_PIN_SIGN)
				return jpki_errf(eb, JPKI_ERR_INVALID,
						 "the %s PIN is required",
						 jpki_pin_kind_name(k));
			continue;
		}
		char norm[JPKI_PIN_MAX_LEN + 1];
		size_t len = strlen(in->pin[k]);
		if (jpki_pin_check(k, in->pin[k], len, norm) != JPKI_PIN_OK ||
		    memcmp(norm, in->pin[k], len) != 0) {
			explicit_bzero(norm, sizeof norm);
			return jpki_errf(eb, JPKI_ERR_INVALID,
					 "the %s PIN is malformed",
					 jpki_pin_kind_name(k));
		}
		explicit_bzero(norm, sizeof norm);
		if (jpkii_pin_set(p, in->pin[k], len) != JPKI_OK)
			return jpki_errf(eb, JPKI_ERR_CRYPTO, "cannot hash a PIN");
	}
	if (in->holder_name || in->holder_address) {
		if (!in->holder_name || !in->holder_address ||
		    in->holder_birth == JPKI_DAY_NONE || in->holder_sex < 1 ||
		    in->holder_sex > 3)
			return jpki_errf(
			    eb, JPKI_ERR_INVALID,
			    "holder data needs name, address, birth and sex");
		struct jpkii_buf *s = &c->slot[SLOT_TEXT_ATTRS];
		jpki_err rc = jpki_card_attrs_encode(
		    in->holder_name, in->holder_address, in->holder_birth,
		    in->holder_sex, &s->data, &s->len);
		if (rc != JPKI_OK)
			return jpki_errf(eb, rc, "holder data does not fit the card");
	}
	if (in->holder_number) {
		if (strlen(in->holder_number) != 12 ||
		    strspn(in->holder_number, "0123456789") != 12)
			return jpki_errf(eb, JPKI_ERR_INVALID,
					 "the individual number has 12 digits");
		struct jpkii_buf *s = &c->slot[SLOT_TEXT_NUMBER];
		if ((s->data = malloc(12)) == NULL)
			return JPKI_ERR_NOMEM;
		memcpy(s->data, in->holder_number, 12);
		s->len = 12;
	}
	return JPKI_OK;
}

static struct jpki_card *card_alloc(void)
{
	struct jpki_card *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->lock_fd = -1;
	c->ef = -1;
	return c;
}

jpki_err jpki_card_create_memory(const struct jpki_card_init *init,
				 struct jpki_card **out, struct jpki_errbuf *eb)
{
	struct jpki_card *c = card_alloc();
	if (c == NULL)
		return JPKI_ERR_NOMEM;
	jpki_err rc = fill(c, init, eb);
	if (rc != JPKI_OK) {
		jpki_card_close(c);
		return rc;
	}
	c->writable = true;
	*out = c;
	return JPKI_OK;
}

jpki_err jpki_card_create(const char *path, const struct jpki_card_init *init,
			  struct jpki_card **out, struct jpki_errbuf *eb)
{
	struct jpki_card *c = card_alloc();
	char tmp[PATH_MAX];
	int fd = -1;
	jpki_err rc;
	if (c == NULL)
		return JPKI_ERR_NOMEM;
	if ((rc = fill(c, init, eb)) != JPKI_OK)
		goto fail;
	if (access(path, F_OK) == 0) {
		rc = jpki_errf(eb, JPKI_ERR_CONFLICT, "%s already exists", path);
		goto fail;
	}
	if ((rc = write_temp(c, path, &fd, tmp, true, eb)) != JPKI_OK)
		goto fail;
	/* link() refuses an existing name atomically, unlike rename(). */
	if (link(tmp, path) != 0) {
		rc = jpki_errf(eb, errno == EEXIST ? JPKI_ERR_CONFLICT : JPKI_ERR_IO,
			       "%s: %s", path, strerror(errno));
		unlink(tmp);
		close(fd);
		goto fail;
	}
	unlink(tmp);
	dir_sync(path);
	if (out == NULL) {
		close(fd);
		jpki_card_close(c);
		return JPKI_OK;
	}
	if ((c->path = strdup(path)) == NULL) {
		close(fd);
		rc = JPKI_ERR_NOMEM;
		goto fail;
	}
	c->lock_fd = fd;
	c->writable = true;
	*out = c;
	return JPKI_OK;
fail:
	jpki_card_close(c);
	return rc;
}

jpki_err jpki_card_save_as(const struct jpki_card *c, const char *path, bool sync,
			   struct jpki_errbuf *eb)
{
	char tmp[PATH_MAX];
	int fd = -1;
	jpki_err rc = write_temp(c, path, &fd, tmp, sync, eb);
	if (rc != JPKI_OK)
		return rc;
	/* link() refuses an existing name atomically, unlike rename(). */
	if (link(tmp, path) != 0)
		rc = jpki_errf(eb, errno == EEXIST ? JPKI_ERR_CONFLICT : JPKI_ERR_IO,
			       "%s: %s", path, strerror(errno));
	unlink(tmp);
	close(fd);
	if (rc == JPKI_OK && sync)
		dir_sync(path);
	return rc;
}

jpki_err jpki_card_open(const char *path, bool lock, struct jpki_card **out,
			struct jpki_errbuf *eb)
{
	struct jpki_card *c = card_alloc();
	uint8_t *data = NULL;
	size_t len = 0;
	jpki_err rc;
	int fd = -1;
	if (c == NULL)
		return JPKI_ERR_NOMEM;
	/* Lock, then make sure the locked inode is still the card's: a
	 * writer may have renamed a new file into place meanwhile. */
	for (int attempt = 0;; attempt++) {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			rc = jpki_errf(
			    eb, errno == ENOENT ? JPKI_ERR_NOTFOUND : JPKI_ERR_IO,
			    "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (!lock)
			break;
		if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			rc =
			    errno == EWOULDBLOCK
				? jpki_errf(eb, JPKI_ERR_CONFLICT,
					    "%s: the card is in use by another process "
					    "(a running `jpki card serve`?)",
					    path)
				: jpki_errf(eb, JPKI_ERR_IO, "%s: %s", path,
					    strerror(errno));
			goto fail;
		}
		struct stat a, b;
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev)
			break;
		close(fd);
		fd = -1;
		if (attempt == 8) {
			rc =
			    jpki_errf(eb, JPKI_ERR_CONFLICT, "%s keeps changing", path);
			goto fail;
		}
	}
	if ((rc = read_all(fd, path, &data, &len, eb)) != JPKI_OK)
		goto fail;
	rc = decode(c, data, len, eb);
	OPENSSL_clear_free(data, len ? len : 1);
	if (rc != JPKI_OK) {
		char why[sizeof eb->msg];
		snprintf(why, sizeof why, "%s", eb ? eb->msg : "damaged");
		jpki_errf(eb, rc, "%s: %s", path, why);
		goto fail;
	}
	if ((c->path = strdup(path)) == NULL) {
		rc = JPKI_ERR_NOMEM;
		goto fail;
	}
	if (lock) {
		c->lock_fd = fd;
		c->writable = true;
	} else {
		close(fd);
	}
	*out = c;
	return JPKI_OK;
fail:
	if (fd >= 0)
		close(fd);
	jpki_card_close(c);
	return rc;
}

void jpki_card_close(struct jpki_card *c)
{
	if (c == NULL)
		return;
	jpki_card_reset(c);
	for (int k = 0; k < 2; k++) {
		EVP_PKEY_CTX_free(c->sign_ctx[k]);
		EVP_PKEY_free(c->key[k]);
	}
	for (int s = 0; s < SLOT_N; s++)
		free(c->slot[s].data);
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	free(c->path);
	OPENSSL_cleanse(c, sizeof *c);
	free(c);
}
