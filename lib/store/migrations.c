/* The schema. Append a migration for every change; never edit one that has
 * shipped. Each runs in one transaction with its schema_migrations row, and
 * uses IF NOT EXISTS so a half-known state can be re-entered safely.
 * Documented in docs/internals/store.md. */
#include "migrations.h"
#include "banned.h"

const struct jpkii_migration jpkii_migrations[] = {
    {1, "audit log",
     /* Append-only: the database itself refuses UPDATE and DELETE. */
     "CREATE TABLE IF NOT EXISTS audit_log ("
     "  seq INTEGER PRIMARY KEY,"
     "  at TEXT NOT NULL,"
     "  actor TEXT NOT NULL,"
     "  action TEXT NOT NULL,"
     "  object TEXT NOT NULL,"
     "  details TEXT NOT NULL,"
     "  prev_hash TEXT NOT NULL,"
     "  hash TEXT NOT NULL UNIQUE);"
     "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log"
     "  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"
     "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log"
     "  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;",
     NULL},
    {2, "certification authorities",
     /* ca: one row per CA key and certificate: root, sign, auth, ocsp-sign,
      * ocsp-auth. key_file is relative to the keys directory. */
     "CREATE TABLE IF NOT EXISTS ca ("
     "  name TEXT PRIMARY KEY,"
     "  cert_der BLOB NOT NULL,"
     "  key_file TEXT NOT NULL,"
     "  created_at INTEGER NOT NULL);"
     /* settings chosen at init: base_url, crl_hours, ocsp_days, key_bits */
     "CREATE TABLE IF NOT EXISTS ca_setting ("
     "  key TEXT PRIMARY KEY,"
     "  value TEXT NOT NULL);"
     "CREATE TABLE IF NOT EXISTS municipality ("
     "  code TEXT PRIMARY KEY,"
     "  name TEXT NOT NULL);"
     /* serial: lowercase hex of the 16-byte serial, unique across all CAs,
      * so a serial alone names a certificate. Times are Unix seconds. */
     "CREATE TABLE IF NOT EXISTS certificate ("
     "  serial TEXT PRIMARY KEY,"
     "  ca TEXT NOT NULL REFERENCES ca(name),"
     "  kind TEXT NOT NULL CHECK (kind IN ('sign', 'auth')),"
     "  municipality TEXT NOT NULL REFERENCES municipality(code),"
     "  issue_number TEXT NOT NULL UNIQUE,"
     "  not_before INTEGER NOT NULL,"
     "  not_after INTEGER NOT NULL,"
     "  der BLOB NOT NULL);"
     /* A revoked certificate never becomes good again (seed 001): no
      * UPDATE, no DELETE. reason is the RFC 5280 CRLReason code. kind,
      * municipality and not_after are the certificate's, copied so that a
      * CRL of a million entries is one scan of this table, not a million
      * lookups into certificate. */
     "CREATE TABLE IF NOT EXISTS revocation ("
     "  serial TEXT PRIMARY KEY REFERENCES certificate(serial),"
     "  kind TEXT NOT NULL,"
     "  municipality TEXT NOT NULL,"
     "  not_after INTEGER NOT NULL,"
     "  revoked_at INTEGER NOT NULL,"
     "  reason INTEGER NOT NULL,"
     "  recorded_at INTEGER NOT NULL);"
     /* Shard CRLs; the full CRL scans the table. */
     "CREATE INDEX IF NOT EXISTS revocation_shard ON revocation(municipality);"
     "CREATE TRIGGER IF NOT EXISTS revocation_no_update BEFORE UPDATE ON revocation"
     "  BEGIN SELECT RAISE(ABORT, 'revocations are final'); END;"
     "CREATE TRIGGER IF NOT EXISTS revocation_no_delete BEFORE DELETE ON revocation"
     "  BEGIN SELECT RAISE(ABORT, 'revocations are final'); END;"
     /* The last number handed out per CRL scope ('sign', 'sign/131016').
      * Committed before the CRL is written, so a number never repeats. */
     "CREATE TABLE IF NOT EXISTS crl_number ("
     "  scope TEXT PRIMARY KEY,"
     "  last INTEGER NOT NULL);"
     /* Issue numbers (the CN) are drawn per kind. */
     "CREATE TABLE IF NOT EXISTS issue_sequence ("
     "  kind TEXT PRIMARY KEY,"
     "  last INTEGER NOT NULL);"
     /* Pre-signed OCSP responses, one per certificate. */
     "CREATE TABLE IF NOT EXISTS ocsp_response ("
     "  serial TEXT PRIMARY KEY REFERENCES certificate(serial),"
     "  produced_at INTEGER NOT NULL,"
     "  next_update INTEGER NOT NULL,"
     "  der BLOB NOT NULL);"
     "CREATE INDEX IF NOT EXISTS ocsp_response_due ON ocsp_response(produced_at);",
     NULL},
    {3, "card issuers",
     /* One Ed25519 card-issuer key per municipality: the counter terminal
      * authenticates to a card with it before an issuer operation. The
      * private key is a file in the keys directory (key_file, relative);
      * public_key is the raw 32 bytes a card is personalised with. */
     "CREATE TABLE IF NOT EXISTS card_issuer ("
     "  municipality TEXT PRIMARY KEY REFERENCES municipality(code),"
     "  public_key BLOB NOT NULL UNIQUE,"
     "  key_file TEXT NOT NULL,"
     "  created_at INTEGER NOT NULL);",
     NULL},
};

const size_t jpkii_n_migrations = sizeof jpkii_migrations / sizeof jpkii_migrations[0];
