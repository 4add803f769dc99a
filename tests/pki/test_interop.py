#!/usr/bin/python3
"""Interoperability tests of the certification authorities (issue 3, DOMAIN §4, §8).

Usage: /usr/bin/python3 test_interop.py JPKI_BINARY SOURCE_DIR [GROUP...]

What `jpki ca` produces is checked with independent implementations: OpenSSL's
command line (verify, ocsp), GnuTLS (certtool, ocsptool) and Python
`cryptography` (Debian's python3-cryptography: run this with /usr/bin/python3).
The store is inspected with the sqlite3 command line.

GROUP is one or more of the case groups a..j (default: all):
  a init   b passphrases   c issuance profiles   d refused issuance
  e revocation   f CRLs   g OCSP   h OCSP errors   i pre-signed OCSP   j audit

Every case runs in its own temporary directory with `--store DIR/s.db`; every
failure is collected and printed at the end; the exit status is 1 if any.

With JPKI_TEST_STORE set to a PostgreSQL URL (tests/pg/pgserver.py run sets
it), every case gets a new database on that server instead (`--store URL
--keys DIR/s.db.keys`), inspected with psql; "the store's bytes" are then
its pg_dump, and the write lock is the store's advisory lock, taken with
psql. The database is dropped after the case.
"""
import datetime as dt
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509 import ocsp
from cryptography.x509.oid import (AuthorityInformationAccessOID, ExtendedKeyUsageOID,
                                   NameOID, SignatureAlgorithmOID)

if len(sys.argv) < 3:
    sys.exit(__doc__)
JPKI = os.path.abspath(sys.argv[1])
SOURCE_DIR = sys.argv[2]
GROUPS = set("".join(sys.argv[3:])) if len(sys.argv) > 3 else set("abcdefghij")

# PostgreSQL instead of SQLite files (see the docstring).
STORE_URL = os.environ.get("JPKI_TEST_STORE", "")
PG = STORE_URL.startswith(("postgresql://", "postgres://"))
# The key of the store's write lock: WRITE_LOCK_KEY in lib/store/postgresql.c.
PG_LOCK_KEY = 7669748266064703346


def pg_tool(name):
    """psql, pg_dump: from the newest /usr/lib/postgresql/*/bin, else PATH."""
    sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "pg"))
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    from pgserver import find_bindir
    bindir = find_bindir()
    path = os.path.join(bindir, name) if bindir else shutil.which(name)
    return path if path and os.access(path, os.X_OK) else None


def pg_url_for(dbname):
    """STORE_URL naming another database of the same server (by hand:
    urllib would drop the empty host of postgresql:///db?host=/dir)."""
    head, sep, query = STORE_URL.partition("?")
    scheme, _, rest = head.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}/{urllib.parse.quote(dbname)}{sep}{query}"


def pg_admin(sql):
    subprocess.run([pg_tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", STORE_URL,
                    "-c", sql], check=True, capture_output=True, timeout=120)


UTC = dt.timezone.utc
JST = dt.timezone(dt.timedelta(hours=9))

# Municipalities with valid check digits (総務省 全国地方公共団体コード).
MUNIS = {"131016": ("東京都", "千代田区"), "141003": ("神奈川県", "横浜市"),
         "011002": ("北海道", "札幌市")}
MUNI_ARGS = [a for code, (_, name) in MUNIS.items()
             for a in ("--municipality", f"{code}:{name}")]
UNKNOWN_MUNI = "271004"  # 大阪市: a valid code, never given to init
DEFAULT_BASE = "http://127.0.0.1:8080"
CA_NAMES = ["root", "sign", "auth", "ocsp-sign", "ocsp-auth"]
POLICY = {"sign": "1.2.392.200149.8.5.1.1.20", "auth": "1.2.392.200149.8.5.1.3.30"}
SAN_OIDS = [f"1.2.392.200149.8.5.5.{i}" for i in range(1, 7)]
PASS = "correct horse battery staple 七"
WRONG_PASS = "incorrect donkey battery staple"

# A default expiry about five years from today (JST), within the CAs' lives.
TODAY_JST = dt.datetime.now(JST).date()
EXPIRES = (TODAY_JST + dt.timedelta(days=5 * 365)).isoformat()


# ---------------------------------------------------------------- framework

class Abort(Exception):
    """A precondition of the rest of a case failed (already recorded)."""


class Proc:
    def __init__(self, argv, cp):
        self.argv, self.rc, self.out, self.err = argv, cp.returncode, cp.stdout, cp.stderr

    @property
    def text(self):
        return self.out.decode("utf-8", "replace")

    @property
    def etext(self):
        return self.err.decode("utf-8", "replace")

    def show(self):
        cmd = " ".join(str(a) for a in self.argv)
        return (f"$ {cmd}\n  exit {self.rc}\n  stdout: {self.text[:600]!r}\n"
                f"  stderr: {self.etext[:600]!r}")


def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items()
           if k not in ("JPKI_NOW", "JPKI_STORE", "JPKI_KEYS", "JPKI_CA_PASSPHRASE")}
    env.update(extra or {})
    return env


class T:
    """One case: a temporary directory, a store, and its failures."""

    def __init__(self, name, tmp, url=None):
        self.name, self.dir = name, Path(tmp)
        self.db = self.dir / "s.db"
        self.keys = self.dir / "s.db.keys"
        # PostgreSQL: the case's database; the keys stay in the directory.
        self.url = url
        self.store_args = ["--store", url, "--keys", self.keys] if url else \
            ["--store", self.db]
        self.failures = []
        self.once = set()
        self.n = 0

    # -- recording
    def fail(self, msg):
        self.failures.append(msg)

    def check(self, cond, msg):
        if not cond:
            self.fail(msg)
        return bool(cond)

    def eq(self, got, want, what):
        return self.check(got == want, f"{what}: expected {want!r}, got {got!r}")

    def fail_once(self, key, msg):
        """One failure for one defect seen many times in a case."""
        if key not in self.once:
            self.once.add(key)
            self.fail(msg + " [reported once per case]")

    def need(self, cond, msg):
        if not cond:
            self.fail(msg)
            raise Abort()

    # -- processes
    def run(self, argv, input=None, env=None, cwd=None):
        cp = subprocess.run([str(a) for a in argv], input=input, capture_output=True,
                            env=clean_env(env), cwd=cwd or self.dir, timeout=120)
        return Proc(argv, cp)

    def jpki(self, *args, now=None, env=None, input=None, expect=0, what=None,
             fatal=False):
        e = dict(env or {})
        if now is not None:
            e["JPKI_NOW"] = now if isinstance(now, str) else iso(now)
        p = self.run([JPKI, *self.store_args, *args], input=input, env=e)
        if expect is not None and p.rc != expect:
            msg = f"{what or args[:2]}: expected exit {expect}\n{p.show()}"
            if fatal:
                self.need(False, msg)
            self.fail(msg)
        return p

    def tool(self, *argv, expect=0, what=None, input=None):
        p = self.run(argv, input=input)
        if expect is not None and p.rc != expect:
            self.fail(f"{what or argv[0]}: expected exit {expect}\n{p.show()}")
        return p

    def path(self, name):
        return self.dir / name

    def write(self, name, data):
        p = self.dir / name
        p.write_bytes(data.encode() if isinstance(data, str) else data)
        return p

    # -- sqlite3 CLI (psql with PostgreSQL)
    def sql(self, query, expect=0, pg=None):
        """Runs query (pg: its PostgreSQL text, when it differs); rows come
        out as a|b|c either way."""
        if self.url:
            p = self.run([pg_tool("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                          "-d", self.url, "-c", pg or query])
        else:
            # A busy timeout, as jpki has: a reader that opens the file while
            # a jpki process is checkpointing on close would otherwise fail
            # at once.
            p = self.run(["sqlite3", "-cmd", ".timeout 5000", self.db, query])
        if expect is not None and p.rc != expect:
            self.fail(f"sql {pg or query if self.url else query!r}: expected exit "
                      f"{expect}\n{p.show()}")
        return p

    def store_bytes(self):
        """The store's bytes: the SQLite file, or a pg_dump of the database."""
        if not self.url:
            return self.db.read_bytes()
        p = self.run([pg_tool("pg_dump"), "--no-owner", "-d", self.url])
        self.need(p.rc == 0, f"pg_dump failed\n{p.show()}")
        # Newer pg_dump brackets its output with a random \restrict key.
        return b"\n".join(ln for ln in p.out.split(b"\n")
                          if not ln.startswith((b"\\restrict", b"\\unrestrict")))

    def store_exists(self):
        """A SQLite file, or any table in the database (a store was opened)."""
        if not self.url:
            return self.db.exists()
        p = self.sql("", pg="SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        return p.text.strip() not in ("", "0")

    def count(self, table, where=""):
        p = self.sql(f"SELECT count(*) FROM {table} {where}")
        try:
            return int(p.text.strip())
        except ValueError:
            return -1

    # -- the CA
    def init(self, *extra, munis=True, now=None, env=None, insecure=True):
        args = ["ca", "init", *(MUNI_ARGS if munis else []), *extra]
        if insecure:
            args.append("--insecure-no-passphrase")
        self.jpki(*args, now=now, env=env, what="ca init", fatal=True)
        return self.ca_certs(env=env)

    def ca_certs(self, env=None):
        certs = {}
        for name in CA_NAMES:
            p = self.jpki("ca", "cert", name, env=env, what=f"ca cert {name}", fatal=True)
            self.write(f"{name}.pem", p.out)
            certs[name] = x509.load_pem_x509_certificate(p.out)
        self.write("chain-sign.pem", self.path("root.pem").read_bytes()
                   + self.path("sign.pem").read_bytes())
        self.write("chain-auth.pem", self.path("root.pem").read_bytes()
                   + self.path("auth.pem").read_bytes())
        return certs

    def issue(self, kind, subject, expires=EXPIRES, key=0, now=None, env=None,
              extra=(), expect=0, json_out=False):
        """Returns (path, certificate) or the Proc when expect != 0."""
        self.n += 1
        sf = self.write(f"subject{self.n}.in", subject if isinstance(subject, (bytes, str))
                        else json.dumps(subject, ensure_ascii=False))
        pub = key if isinstance(key, Path) else KEYS.pub(key)
        args = ["ca", "issue", "--kind", kind, "--pubkey", pub, "--subject", sf,
                "--expires", expires, *extra]
        if json_out:
            args.append("--json")
        p = self.jpki(*args, now=now, env=env, expect=expect, what=f"issue {kind}")
        if expect != 0:
            return p
        self.need(p.rc == 0, f"issue {kind} failed")
        pem = json.loads(p.out)["pem"].encode() if json_out else p.out
        cf = self.write(f"cert{self.n}.pem", pem)
        cert = x509.load_pem_x509_certificate(pem)
        if json_out:
            return cf, cert, json.loads(p.out)
        return cf, cert

    def crl(self, kind, shard=None, now=None, expect=0):
        self.n += 1
        out = self.path(f"crl{self.n}.der")
        args = ["ca", "crl", "--kind", kind, "--out", out]
        if shard:
            args += ["--shard", shard]
        p = self.jpki(*args, now=now, expect=expect, what=f"crl {kind} {shard}")
        if expect != 0:
            return p
        self.need(p.rc == 0 and out.exists(), "crl failed")
        return out, x509.load_der_x509_crl(out.read_bytes())

    def ocsp_req(self, issuer, cert=None, serial=None, nonce=True):
        self.n += 1
        out = self.path(f"req{self.n}.der")
        argv = ["openssl", "ocsp", "-issuer", self.path(f"{issuer}.pem"), "-reqout", out]
        argv += ["-cert", cert] if cert else ["-serial", serial]
        if not nonce:
            argv.append("-no_nonce")
        self.tool(*argv, what="openssl ocsp -reqout")
        self.need(out.exists(), "openssl could not build an OCSP request")
        return out

    def ocsp(self, req, now=None, stdin=False):
        """Answers req (a path or bytes); returns the response path."""
        self.n += 1
        out = self.path(f"resp{self.n}.der")
        if stdin:
            data = req.read_bytes() if isinstance(req, Path) else req
            p = self.jpki("ca", "ocsp", now=now, input=data, what="ca ocsp (stdin)")
            out.write_bytes(p.out)
        else:
            if not isinstance(req, Path):
                req = self.write(f"rawreq{self.n}.der", req)
            p = self.jpki("ca", "ocsp", "--in", req, "--out", out, now=now,
                          what="ca ocsp --in")
        self.need(p.rc == 0 and out.exists() and out.stat().st_size > 0,
                  f"ca ocsp gave no response\n{p.show()}")
        return out


class Keys:
    """User key pairs made with openssl genrsa, shared read-only by the cases."""

    def __init__(self, d):
        self.dir = Path(d)
        self.made = {}

    def pub(self, i, bits=2048):
        name = f"user{i}-{bits}"
        if name not in self.made:
            priv, pub = self.dir / f"{name}.key.pem", self.dir / f"{name}.pub.pem"
            for argv in (["openssl", "genrsa", "-out", priv, str(bits)],
                         ["openssl", "rsa", "-in", priv, "-pubout", "-out", pub]):
                cp = subprocess.run([str(a) for a in argv], capture_output=True)
                if cp.returncode != 0:
                    raise RuntimeError(f"{argv}: {cp.stderr!r}")
            self.made[name] = pub
        return self.made[name]


KEYS = None
CASES = []


def case(group, name):
    def deco(fn):
        CASES.append((group, name, fn))
        return fn
    return deco


# ---------------------------------------------------------------- helpers

def iso(t):
    """Unix seconds or an aware datetime -> 2026-02-21T01:00:00Z."""
    if isinstance(t, dt.datetime):
        t = t.timestamp()
    return dt.datetime.fromtimestamp(int(t), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_naive(t):
    return dt.datetime.fromtimestamp(int(t), UTC).replace(tzinfo=None)


def epoch(naive_utc):
    return int(naive_utc.replace(tzinfo=UTC).timestamp())


def one_line(p):
    e = p.etext.strip()
    return bool(e) and "\n" not in e


def der_utf8string(b):
    """The text of a DER UTF8String (tag 0x0C, definite length)."""
    if len(b) < 2 or b[0] != 0x0C:
        raise ValueError(f"not a UTF8String: {b[:8]!r}")
    n, off = b[1], 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 4:
            raise ValueError("bad length")
        n, off = int.from_bytes(b[2:2 + k], "big"), 2 + k
    if off + n != len(b):
        raise ValueError(f"length {n} does not match {len(b) - off} bytes")
    return b[off:].decode("utf-8")


ERAS = [(dt.date(2019, 5, 1), 5), (dt.date(1989, 1, 8), 4), (dt.date(1926, 12, 25), 3),
        (dt.date(1912, 7, 30), 2), (dt.date(1873, 1, 1), 1)]


def era_birth(iso_date):
    """EYYYYMMDD (DOMAIN §8): E 1 明治 2 大正 3 昭和 4 平成 5 令和."""
    d = dt.date.fromisoformat(iso_date)
    for start, digit in ERAS:
        if d >= start:
            return f"{digit}{d:%Y%m%d}"
    raise ValueError(iso_date)


def san_values(s):
    """The six otherName values of a subject file, in OID order (DOMAIN §8)."""
    return [s["name"], s["name_alt"], str(s["sex"]), era_birth(s["birth"]), s["address"],
            s["address_alt"]]


def key_id(pub):
    """SHA-1 of the subjectPublicKey bits (RFC 5280 4.2.1.2 (1), RFC 6960 KeyHash)."""
    return x509.SubjectKeyIdentifier.from_public_key(pub).digest


def sig_ok(issuer_cert, cert):
    try:
        issuer_cert.public_key().verify(cert.signature, cert.tbs_certificate_bytes,
                                        padding.PKCS1v15(), cert.signature_hash_algorithm)
        return True
    except Exception:
        return False


def ext(obj, cls):
    try:
        return obj.extensions.get_extension_for_class(cls)
    except x509.ExtensionNotFound:
        return None


def subject_pairs(name):
    return [(a.oid, a.value) for a in name]


def serial_hex(cert):
    # Whole bytes, as the store keeps serials and openssl prints them: a serial
    # whose first byte is 01 (1 in 128 of ours) is "01…", not "1…".
    h = format(cert.serial_number, "x")
    return h if len(h) % 2 == 0 else "0" + h


def openssl_time(naive_utc):
    """OpenSSL's ASN1_TIME_print form: 'Mar  1 01:00:00 2024 GMT'."""
    return f"{naive_utc:%b} {naive_utc.day:2d} {naive_utc:%H:%M:%S %Y} GMT"


def subject(name="山田 太郎", sex=1, birth="1990-04-01",
            address="東京都千代田区千代田1番1号", municipality="131016",
            name_alt=None, address_alt=None):
    return {"name": name, "name_alt": name_alt if name_alt is not None else "0" * len(name),
            "sex": sex, "birth": birth, "address": address,
            "address_alt": address_alt if address_alt is not None else "0" * len(address),
            "municipality": municipality}


def ee_profile(t, cert, cf, kind, subj, base, expires, cas, t0, t1, label):
    """The end-entity profile of DOMAIN §8 and issue 3, with cryptography."""
    c = lambda cond, msg: t.check(cond, f"{label}: {msg}")
    c(cert.version == x509.Version.v3, f"version {cert.version}")
    sn = cert.serial_number
    c(sn > 0 and sn.bit_length() // 8 + 1 == 16,
      f"serial {sn:x} is not a positive 16-byte integer")
    c(cert.signature_algorithm_oid == SignatureAlgorithmOID.RSA_WITH_SHA256,
      f"signature algorithm {cert.signature_algorithm_oid}")
    issuer = cas[kind]
    c(cert.issuer == issuer.subject, f"issuer {cert.issuer.rfc4514_string()}")
    c(sig_ok(issuer, cert), f"signature does not verify with the {kind} CA key")
    y, m, d = map(int, expires.split("-"))
    t.eq(cert.not_valid_after, dt.datetime(y, m, d, 14, 59, 59),
         f"{label}: notAfter (23:59:59 JST of {expires})")
    nb = epoch(cert.not_valid_before)
    c(t0 - 2 <= nb <= t1 + 2, f"notBefore {cert.not_valid_before} is not the issue time")
    ku = ext(cert, x509.KeyUsage)
    if c(ku is not None, "no keyUsage"):
        v = ku.value
        c(ku.critical, "keyUsage not critical")
        got = [n for n in ("digital_signature", "content_commitment", "key_encipherment",
                           "data_encipherment", "key_agreement", "key_cert_sign",
                           "crl_sign") if getattr(v, n)]
        want = ["digital_signature", "content_commitment"] if kind == "sign" \
            else ["digital_signature"]
        t.eq(got, want, f"{label}: keyUsage bits")
    cp = ext(cert, x509.CertificatePolicies)
    if c(cp is not None, "no certificatePolicies"):
        t.eq([p.policy_identifier.dotted_string for p in cp.value], [POLICY[kind]],
             f"{label}: certificatePolicies")
    dp = ext(cert, x509.CRLDistributionPoints)
    muni = subj["municipality"]
    if c(dp is not None, "no cRLDistributionPoints"):
        t.eq([[g.value for g in p.full_name or []] for p in dp.value],
             [[f"{base}/crl/{kind}/{muni}.crl"]], f"{label}: CRLDP")
    aia = ext(cert, x509.AuthorityInformationAccess)
    if c(aia is not None, "no authorityInfoAccess"):
        t.eq([a.access_location.value for a in aia.value
              if a.access_method == AuthorityInformationAccessOID.OCSP],
             [f"{base}/ocsp/{kind}"], f"{label}: AIA OCSP")
    pairs = subject_pairs(cert.subject)
    cn = [v for o, v in pairs if o == NameOID.COMMON_NAME]
    c(len(cn) == 1 and cn[0], "no CN (issue number)")
    san = ext(cert, x509.SubjectAlternativeName)
    if kind == "sign":
        pref, mname = MUNIS[muni]
        t.eq(pairs, [(NameOID.COUNTRY_NAME, "JP"), (NameOID.LOCALITY_NAME, pref),
                     (NameOID.LOCALITY_NAME, mname), (NameOID.COMMON_NAME, cn[0] if cn else None)],
             f"{label}: subject")
        if c(san is not None, "no subjectAltName"):
            names = list(san.value)
            c(all(isinstance(g, x509.OtherName) for g in names),
              "subjectAltName holds something other than otherNames")
            t.eq([g.type_id.dotted_string for g in names if isinstance(g, x509.OtherName)],
                 SAN_OIDS, f"{label}: otherName OIDs")
            want = san_values(subj)
            for g, w, oid in zip(names, want, SAN_OIDS):
                try:
                    got = der_utf8string(g.value)
                except Exception as e:  # noqa: BLE001
                    t.fail(f"{label}: otherName {oid}: {e}")
                    continue
                t.eq(got, w, f"{label}: otherName {oid}")
    else:
        t.eq(pairs, [(NameOID.COUNTRY_NAME, "JP"), (NameOID.COMMON_NAME, cn[0] if cn else None)],
             f"{label}: auth subject (C and CN only)")
        c(san is None, "the auth certificate has a subjectAltName")
    return cn[0] if cn else None


def check_ocsp(t, der, label, *, responder, issuer, serial, status, reason=None,
               rev_time=None, nonce=None, validity=dt.timedelta(days=4)):
    """A successful basic response, checked with cryptography."""
    try:
        r = ocsp.load_der_ocsp_response(der)
    except Exception as e:  # noqa: BLE001
        t.fail(f"{label}: cryptography cannot parse the response: {e}")
        return None
    c = lambda cond, msg: t.check(cond, f"{label}: {msg}")
    if not c(r.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL,
             f"responseStatus {r.response_status}"):
        return None
    rpub = responder.public_key()
    c(r.responder_key_hash == key_id(rpub) or r.responder_name == responder.subject,
      "responderID does not name the responder certificate")
    c(any(x == responder for x in r.certificates),
      "the responder certificate is not in the response")
    c(r.signature_algorithm_oid == SignatureAlgorithmOID.RSA_WITH_SHA256,
      f"signature algorithm {r.signature_algorithm_oid}")
    try:
        rpub.verify(r.signature, r.tbs_response_bytes, padding.PKCS1v15(),
                    r.signature_hash_algorithm)
    except Exception:  # noqa: BLE001
        t.fail(f"{label}: the signature does not verify with the responder key")
    t.eq(r.serial_number, serial, f"{label}: serial")
    h = r.hash_algorithm
    ih = hashes.Hash(type(h)())
    ih.update(issuer.subject.public_bytes())
    c(r.issuer_name_hash == ih.finalize(), "issuerNameHash")
    if isinstance(h, hashes.SHA1):
        c(r.issuer_key_hash == key_id(issuer.public_key()), "issuerKeyHash")
    t.eq(r.certificate_status, status, f"{label}: certStatus")
    if status == ocsp.OCSPCertStatus.REVOKED:
        t.eq(r.revocation_reason, reason, f"{label}: revocationReason")
        if rev_time is not None:
            t.eq(r.revocation_time, rev_time, f"{label}: revocationTime")
    if r.next_update is not None:
        t.eq(r.next_update - r.this_update, validity, f"{label}: nextUpdate - thisUpdate")
    else:
        t.fail(f"{label}: no nextUpdate")
    got_nonce = None
    for e in r.extensions:
        if isinstance(e.value, x509.OCSPNonce):
            got_nonce = e.value.nonce
    t.eq(got_nonce, nonce, f"{label}: nonce")
    return r


def req_nonce(path):
    req = ocsp.load_der_ocsp_request(Path(path).read_bytes())
    for e in req.extensions:
        if isinstance(e.value, x509.OCSPNonce):
            return e.value.nonce
    return None


def openssl_status(t, resp, issuer, cert, chain, label, extra=()):
    """openssl ocsp's verdict on resp for cert: its stdout+stderr."""
    p = t.tool("openssl", "ocsp", "-respin", resp, "-CAfile", t.path(chain),
               "-issuer", t.path(f"{issuer}.pem"), "-cert", cert, "-no_nonce", *extra,
               what=f"{label}: openssl ocsp -respin", expect=None)
    out = p.text + p.etext
    t.check(p.rc == 0 and "Response verify OK" in out,
            f"{label}: openssl does not verify the response\n{p.show()}")
    return out


def openssl_verify(t, chain_ca, untrusted, certs, label, crl=None, attime=None):
    argv = ["openssl", "verify", "-CAfile", t.path(chain_ca)]
    if untrusted:
        argv += ["-untrusted", t.path(untrusted)]
    if crl:
        argv += ["-crl_check", "-CRLfile", crl]
    if attime is not None:
        argv += ["-attime", str(attime)]
    return t.run(argv + [str(c) for c in certs])


# ---------------------------------------------------------------- a. init

INIT_MODES = [
    ("insecure", ["--insecure-no-passphrase"], {}, None),
    ("JPKI_CA_PASSPHRASE", [], {"JPKI_CA_PASSPHRASE": PASS}, PASS),
    ("--passphrase-file", ["--passphrase-file", "PASSFILE"], {}, PASS),
]


def case_init_mode(t, mode):
    label, args, env, passphrase = mode
    pf = t.write("pass.txt", PASS + "\n")
    args = [str(pf) if a == "PASSFILE" else a for a in args]
    p = t.jpki("ca", "init", *MUNI_ARGS, *args, env=env, what=f"init ({label})", fatal=True)
    t.check(PASS not in p.text + p.etext, "the passphrase appears in init's output")
    t.need(t.keys.is_dir(), f"no keys directory {t.keys}")
    t.eq(t.keys.stat().st_mode & 0o777, 0o700, "keys directory mode")
    files = sorted(f.name for f in t.keys.iterdir())
    issuer_files = [f"card-issuer-{code}.key.pem" for code in MUNIS]
    t.eq(files, sorted([f"{n}.key.pem" for n in CA_NAMES] + issuer_files), "key files")
    # One Ed25519 card-issuer key per municipality (issue 4), encrypted like
    # the CA keys, its public key in the store.
    for code in MUNIS:
        f = t.keys / f"card-issuer-{code}.key.pem"
        if not f.exists():
            continue
        data = f.read_bytes()
        t.eq(f.stat().st_mode & 0o777, 0o600, f"mode of {f.name}")
        t.eq(b"ENCRYPTED" in data, passphrase is not None, f"{f.name}: PEM says ENCRYPTED")
        try:
            key = serialization.load_pem_private_key(
                data, passphrase.encode() if passphrase else None)
            raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                                serialization.PublicFormat.Raw)
            t.eq(t.sql(f"SELECT hex(public_key) FROM card_issuer WHERE municipality = '{code}'",
                       pg=f"SELECT encode(public_key, 'hex') FROM card_issuer "
                          f"WHERE municipality = '{code}'")
                 .text.strip().lower(), raw.hex(), f"{f.name}: public key in the store")
        except Exception as e:  # noqa: BLE001
            t.fail(f"{f.name}: cryptography cannot load it as Ed25519: {e}")
    certs = t.ca_certs(env=env)
    for n in CA_NAMES:
        f = t.keys / f"{n}.key.pem"
        if not f.exists():
            continue
        t.eq(f.stat().st_mode & 0o777, 0o600, f"mode of {f.name}")
        data = f.read_bytes()
        t.eq(b"ENCRYPTED" in data, passphrase is not None,
             f"{f.name}: PEM says ENCRYPTED")
        t.check(PASS.encode() not in data, f"{f.name} contains the passphrase")
        try:
            key = serialization.load_pem_private_key(
                data, passphrase.encode() if passphrase else None)
            t.check(key.public_key().public_numbers()
                    == certs[n].public_key().public_numbers(),
                    f"{f.name} does not match the {n} certificate")
            t.eq(key.key_size, 2048, f"{f.name} key size")
        except Exception as e:  # noqa: BLE001
            t.fail(f"{f.name}: cryptography cannot load it: {e}")
    t.eq(t.count("audit_log"), 1, "audit rows after init")
    t.eq(t.count("municipality"), 3, "municipalities stored")
    t.check(PASS.encode() not in t.store_bytes(), "the store contains the passphrase")


for _m in INIT_MODES:
    case("a", f"init creates 5 CA keys and the card-issuer keys ({_m[0]})")(functools.partial(case_init_mode, mode=_m))


def snapshot(t):
    files = {}
    if t.url:  # the database's dump stands for the file
        files[t.db.name] = t.store_bytes()
    for f in [t.db, Path(str(t.db) + "-wal"), *sorted(t.keys.iterdir())]:
        if f.exists():
            files[f.name] = f.read_bytes()
    return files


@case("a", "init twice refuses and changes nothing")
def _(t):
    t.init()
    before = snapshot(t)
    t.need("s.db" in before, "no store file")
    for label, args, env in [
            ("same options", [*MUNI_ARGS, "--insecure-no-passphrase"], {}),
            ("other options", ["--municipality", f"{UNKNOWN_MUNI}:大阪市", "--crl-hours", "6"],
             {"JPKI_CA_PASSPHRASE": PASS})]:
        p = t.jpki("ca", "init", *args, env=env, expect=1, what=f"second init ({label})")
        t.check(p.out == b"", f"second init ({label}) printed on stdout: {p.text!r}")
        t.check(one_line(p), f"second init ({label}): not a one-line error: {p.etext!r}")
        after = snapshot(t)
        t.eq(sorted(after), sorted(before), f"files after second init ({label})")
        for name in before:
            t.check(after.get(name) == before[name],
                    f"second init ({label}) changed {name}")
    t.jpki("audit", "verify", what="audit verify after init twice")
    t.eq(t.count("audit_log"), 1, "audit rows after init twice")


@case("a", "init with a bad municipality or without a passphrase: exit 2")
def _(t):
    rows = [
        ("wrong check digit", ["--municipality", "131017:千代田区", "--insecure-no-passphrase"]),
        ("five digits", ["--municipality", "13101:千代田区", "--insecure-no-passphrase"]),
        ("no prefecture 48", ["--municipality", "481009:どこか", "--insecure-no-passphrase"]),
        ("no name", ["--municipality", "131016", "--insecure-no-passphrase"]),
        ("empty name", ["--municipality", "131016:", "--insecure-no-passphrase"]),
        ("given twice", ["--municipality", "131016:千代田区", "--municipality",
                         "131016:千代田区", "--insecure-no-passphrase"]),
        ("no passphrase, no --insecure-no-passphrase", [*MUNI_ARGS]),
        ("--passphrase-file and --insecure-no-passphrase",
         [*MUNI_ARGS, "--passphrase-file", str(t.write("p", PASS)),
          "--insecure-no-passphrase"]),
        ("no municipality", ["--insecure-no-passphrase"]),
        ("key bits 1024", [*MUNI_ARGS, "--key-bits", "1024", "--insecure-no-passphrase"]),
        ("a base URL with a trailing slash",
         [*MUNI_ARGS, "--base-url", "http://ca.example/", "--insecure-no-passphrase"]),
    ]
    for label, args in rows:
        p = t.jpki("ca", "init", *args, expect=2, what=f"init: {label}")
        t.check(one_line(p), f"init: {label}: not a one-line error: {p.etext!r}")
        t.check(p.out == b"", f"init: {label}: printed on stdout")
        keys = list(t.keys.iterdir()) if t.keys.exists() else []
        t.eq(keys, [], f"init: {label}: key files left")
        t.check(not t.store_exists(), f"init: {label}: an empty store was left")
        if label.startswith("no passphrase"):
            t.check("passphrase" in p.etext, f"init: {label}: stderr does not say why: "
                    f"{p.etext!r}")
        if label == "wrong check digit":
            t.check("131017" in p.etext, f"init: {label}: stderr does not name the code")
    # Nothing was initialized: a later init works.
    t.init()


@case("a", "a CA key file that is not its certificate's is refused before signing")
def _(t):
    t.init()
    sign = t.keys / "sign.key.pem"
    sign.write_bytes((t.keys / "auth.key.pem").read_bytes())
    p = t.issue("sign", subject(), expect=3)
    t.check("does not belong" in p.etext, f"stderr does not say why: {p.etext!r}")
    t.check(p.out == b"", "a certificate was printed")
    t.eq(t.count("certificate"), 0, "a certificate row was written")


# ---------------------------------------------------------------- b. passphrases

@case("b", "passphrases: env, file, wrong, none")
def _(t):
    t.init(env={"JPKI_CA_PASSPHRASE": PASS}, insecure=False)
    for n in CA_NAMES:
        t.check(b"ENCRYPTED" in (t.keys / f"{n}.key.pem").read_bytes(),
                f"{n}.key.pem is not encrypted")
    right = t.write("right.txt", PASS + "\n")
    wrong = t.write("wrong.txt", WRONG_PASS + "\n")
    rows = [
        ("right passphrase in JPKI_CA_PASSPHRASE", {"JPKI_CA_PASSPHRASE": PASS}, [], 0, None),
        ("right passphrase in --passphrase-file", {}, ["--passphrase-file", right], 0, None),
        ("file wins over a wrong env", {"JPKI_CA_PASSPHRASE": WRONG_PASS},
         ["--passphrase-file", right], 0, None),
        ("wrong passphrase in JPKI_CA_PASSPHRASE", {"JPKI_CA_PASSPHRASE": WRONG_PASS}, [], 2,
         r"passphrase|decrypt"),
        ("wrong passphrase in --passphrase-file", {}, ["--passphrase-file", wrong], 2,
         r"passphrase|decrypt"),
        ("no passphrase", {}, [], 1, r"encrypted"),
    ]
    outputs = []
    certs = t.count("certificate")
    for label, env, extra, code, pattern in rows:
        p = t.issue("sign", subject(), env=env, extra=extra, expect=None)
        if isinstance(p, tuple):
            t.check(code == 0, f"{label}: issued, expected exit {code}")
            certs += 1
            continue
        outputs.append(p.text + p.etext)
        t.eq(p.rc, code, f"{label}: exit status\n{p.show()}")
        if code != 0:
            t.check(one_line(p), f"{label}: not a one-line error: {p.etext!r}")
            t.check(p.out == b"", f"{label}: printed on stdout")
            t.check(re.search(pattern, p.etext, re.I),
                    f"{label}: stderr does not say /{pattern}/: {p.etext!r}")
        else:
            certs += 1
        t.eq(t.count("certificate"), certs, f"{label}: certificates in the store")
    # Other signing commands: none and wrong first (while refresh-ocsp has work
    # to do: the certificates above have no stored response yet), then right.
    for args in (["ca", "refresh-ocsp"], ["ca", "crl", "--kind", "sign", "--out", t.path("c.der")]):
        name = " ".join(args[:2])
        p = t.jpki(*args, expect=1, what=f"{name} without a passphrase")
        t.check(re.search("encrypted", p.etext), f"{name} without a passphrase: {p.etext!r}")
        outputs.append(p.text + p.etext)
        p = t.jpki(*args, env={"JPKI_CA_PASSPHRASE": WRONG_PASS}, expect=2,
                   what=f"{name} with a wrong passphrase")
        t.check(one_line(p), f"{name} with a wrong passphrase: {p.etext!r}")
        outputs.append(p.text + p.etext)
        p = t.jpki(*args, env={"JPKI_CA_PASSPHRASE": PASS}, what=name)
        outputs.append(p.text + p.etext)
    t.eq(t.count("ocsp_response"), certs, "responses signed by refresh-ocsp")
    for o in outputs:
        t.check(PASS not in o and WRONG_PASS not in o,
                f"a passphrase appears in the output: {o!r}")
    db = t.store_bytes()
    t.check(PASS.encode() not in db and WRONG_PASS.encode() not in db,
            "a passphrase is in the store")


# ---------------------------------------------------------------- c. issuance

NAME100 = ("𠮷" + "山田太郎やまだたろうヤマダタロウ" * 7)[:100]
ADDR200 = ("東京都千代田区千代田一丁目一番一号𠮷野ハイツ１０１号室" * 10)[:200]
SIGN_SUBJECTS = [
    ("kanji, 1926-12-25 is 昭和 (3)",
     subject("山田 太郎", 1, "1926-12-25", "東京都千代田区千代田1番1号", "131016")),
    ("kana, 1989-01-07 is still 昭和 (3)",
     subject("やまだ はなこ", 2, "1989-01-07", "神奈川県横浜市中区港町一丁目一番地カナガワハイツ", "141003")),
    ("non-BMP 𠮷, 1989-01-08 is 平成 (4)",
     subject("𠮷野 𠮷子", 3, "1989-01-08", "北海道札幌市中央区北1条西2丁目𠮷野ビル", "011002",
             name_alt="10010", address_alt="0" * 16 + "1" + "000")),
    ("100-character name, 200-character address, 2019-05-01 is 令和 (5)",
     subject(NAME100, 1, "2019-05-01", ADDR200, "131016",
             name_alt="1" + "0" * 99, address_alt=("0" * 17 + "1" + "0" * 11) * 6 + "0" * 26)),
    ("1912-07-30 is 大正 (2)", subject("大正 花子", 2, "1912-07-30")),
    ("1912-07-29 is 明治 (1)", subject("明治 一郎", 1, "1912-07-29")),
    ("1873-01-01 is 明治 (1)", subject("明治 二郎", 1, "1873-01-01")),
    ("1926-12-24 is 大正 (2)", subject("大正 三郎", 1, "1926-12-24")),
    ("2019-04-30 is 平成 (4)", subject("平成 四郎", 3, "2019-04-30")),
]


@case("c", "signing certificates: profile, SAN otherNames, openssl verify, certtool -i")
def _(t):
    cas = t.init()
    for label, s in SIGN_SUBJECTS[3:4]:
        t.eq((len(s["name"]), len(s["name_alt"]), len(s["address"]), len(s["address_alt"])),
             (100, 100, 200, 200), "test data: the limit subject")
    issued, cns, serials = [], set(), set()
    for i, (label, s) in enumerate(SIGN_SUBJECTS):
        t0 = time.time()
        if i == 0:
            cf, cert, j = t.issue("sign", s, key=i % 3, json_out=True)
            t.eq(j.get("serial"), serial_hex(cert), f"{label}: --json serial")
        else:
            cf, cert = t.issue("sign", s, key=i % 3)
            j = None
        cn = ee_profile(t, cert, cf, "sign", s, DEFAULT_BASE, EXPIRES, cas, t0, time.time(),
                        label)
        if j is not None:
            t.eq(j.get("issue_number"), cn, f"{label}: --json issue_number")
        t.eq(cert.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo),
             serialization.load_pem_public_key(KEYS.pub(i % 3).read_bytes()).public_bytes(
                 serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo),
             f"{label}: the certified key")
        t.check(cn not in cns, f"{label}: issue number {cn} repeats")
        t.check(cert.serial_number not in serials, f"{label}: serial repeats")
        cns.add(cn)
        serials.add(cert.serial_number)
        issued.append(cf)
        # GnuTLS's reading of the otherNames.
        p = t.tool("certtool", "-i", "--infile", cf, what=f"{label}: certtool -i")
        got = re.findall(r"otherName OID: (\S+)\s+otherName DER: ([0-9a-fA-F]+)", p.text)
        t.eq([o for o, _ in got], SAN_OIDS, f"{label}: certtool -i otherName OIDs")
        try:
            t.eq([der_utf8string(bytes.fromhex(h)) for _, h in got], san_values(s),
                 f"{label}: certtool -i otherName values")
        except ValueError as e:
            t.fail(f"{label}: certtool -i otherName DER: {e}")
    p = openssl_verify(t, "root.pem", "sign.pem", issued, "sign")
    t.eq(p.rc, 0, f"openssl verify of the signing certificates\n{p.show()}")
    for cf in issued:
        t.check(f"{cf}: OK" in p.text, f"openssl verify: {cf.name} not OK\n{p.show()}")
    # A signing certificate does not verify under the auth CA.
    p = openssl_verify(t, "root.pem", "auth.pem", issued[:1], "sign under auth")
    t.check(p.rc != 0, "a signing certificate verifies under the auth CA")
    t.eq(t.count("certificate"), len(SIGN_SUBJECTS), "certificates in the store")


@case("c", "auth and signing certificates with a non-default --base-url")
def _(t):
    base = "https://ca.example.jp:8443/jpki"
    cas = t.init("--base-url", base)
    rows = [
        ("auth, full subject file (personal data ignored)", "auth", subject(municipality="141003")),
        ("auth, municipality only", "auth", {"municipality": "011002"}),
        ("auth, 131016", "auth", {"municipality": "131016"}),
        ("sign, 141003", "sign", subject(municipality="141003")),
    ]
    made = {"sign": [], "auth": []}
    for label, kind, s in rows:
        t0 = time.time()
        cf, cert = t.issue(kind, s)
        ee_profile(t, cert, cf, kind, s, base, EXPIRES, cas, t0, time.time(), label)
        if kind == "auth":
            der = cert.public_bytes(serialization.Encoding.DER)
            for word in ("山田".encode(), "千代田".encode(), b"1990"):
                t.check(word not in der, f"{label}: personal data {word!r} in the certificate")
        made[kind].append(cf)
        t.tool("certtool", "-i", "--infile", cf, what=f"{label}: certtool -i")
    for kind, files in made.items():
        p = openssl_verify(t, "root.pem", f"{kind}.pem", files, kind)
        t.eq(p.rc, 0, f"openssl verify of the {kind} certificates\n{p.show()}")
    p = openssl_verify(t, "root.pem", "sign.pem", made["auth"][:1], "auth under sign")
    t.check(p.rc != 0, "an auth certificate verifies under the signing CA")


@case("c", "CA certificates: root, issuing CAs, OCSP responders")
def _(t):
    cas = t.init()
    parent = {"root": "root", "sign": "root", "auth": "root", "ocsp-sign": "sign",
              "ocsp-auth": "auth"}
    for n, cert in cas.items():
        par = cas[parent[n]]
        t.eq(cert.version, x509.Version.v3, f"{n}: version")
        t.eq(cert.signature_algorithm_oid, SignatureAlgorithmOID.RSA_WITH_SHA256,
             f"{n}: signature algorithm")
        t.eq(cert.public_key().key_size, 2048, f"{n}: key size")
        t.eq(cert.issuer, par.subject, f"{n}: issuer")
        t.check(sig_ok(par, cert), f"{n}: signature does not verify with {parent[n]}'s key")
        sn = cert.serial_number
        t.check(sn > 0 and sn.bit_length() // 8 + 1 == 16, f"{n}: serial {sn:x}")
        bc = ext(cert, x509.BasicConstraints)
        if n in ("root", "sign", "auth"):
            if t.check(bc is not None and bc.critical, f"{n}: basicConstraints missing or "
                       "not critical"):
                t.check(bc.value.ca, f"{n}: not CA:TRUE")
                if n != "root":
                    t.eq(bc.value.path_length, 0, f"{n}: pathlen")
            ku = ext(cert, x509.KeyUsage)
            t.check(ku is not None and ku.value.key_cert_sign and ku.value.crl_sign,
                    f"{n}: keyUsage lacks keyCertSign/cRLSign")
        else:
            t.check(bc is None or not bc.value.ca, f"{n}: a responder must not be a CA")
            eku = ext(cert, x509.ExtendedKeyUsage)
            t.check(eku is not None and list(eku.value) == [ExtendedKeyUsageOID.OCSP_SIGNING],
                    f"{n}: extendedKeyUsage is not OCSPSigning: {eku}")
            t.check(ext(cert, x509.OCSPNoCheck) is not None, f"{n}: no id-pkix-ocsp-nocheck")
            ku = ext(cert, x509.KeyUsage)
            t.check(ku is not None and ku.value.digital_signature,
                    f"{n}: keyUsage lacks digitalSignature")
        if n != "root":
            aki, ski = ext(cert, x509.AuthorityKeyIdentifier), ext(par, x509.SubjectKeyIdentifier)
            t.check(aki and ski and aki.value.key_identifier == ski.value.digest,
                    f"{n}: authorityKeyIdentifier does not match {parent[n]}")
        orgs = [a.value for a in cert.subject if a.oid == NameOID.ORGANIZATION_NAME]
        t.eq(orgs, ["openjpki"], f"{n}: O")
        for a in cert.subject:
            v = a.value
            t.check("Japan Agency for Local Authority Information Systems" not in v
                    and "地方公共団体情報システム機構" not in v
                    and ("J-LIS" not in v or "not J-LIS" in v),
                    f"{n}: the subject presents J-LIS: {a.oid._name}={v!r}")
        t.eq([a.value for a in cert.subject if a.oid == NameOID.COUNTRY_NAME], ["JP"],
             f"{n}: C")
        t.tool("certtool", "-i", "--infile", t.path(f"{n}.pem"), what=f"certtool -i {n}")
    for n, ca, untrusted in [("root", "root.pem", None), ("sign", "root.pem", None),
                             ("auth", "root.pem", None), ("ocsp-sign", "root.pem", "sign.pem"),
                             ("ocsp-auth", "root.pem", "auth.pem")]:
        p = openssl_verify(t, ca, untrusted, [t.path(f"{n}.pem")], n)
        t.eq(p.rc, 0, f"openssl verify {n}\n{p.show()}")


# ---------------------------------------------------------------- d. refused issuance

def _without(key):
    s = subject()
    del s[key]
    return s


def _with(**kw):
    s = subject()
    s.update(kw)
    return s


@case("d", "refused issuance: exit 2, one stderr line, no row")
def _(t):
    t.init()
    k1024 = KEYS.pub(9, bits=1024)
    ec_priv = t.path("ec.key.pem")
    t.tool("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
           "-out", ec_priv)
    ec_pub = t.path("ec.pub.pem")
    t.tool("openssl", "pkey", "-in", ec_priv, "-pubout", "-out", ec_pub)
    der_pub = t.path("pub.der")
    t.tool("openssl", "rsa", "-pubin", "-in", KEYS.pub(0), "-outform", "DER", "-out", der_pub)
    text_pub = t.write("pub.txt", "this is not a public key\n")
    priv_pem = KEYS.pub(0).with_name(KEYS.pub(0).name.replace(".pub.", ".key."))
    good = json.dumps(subject(), ensure_ascii=False).encode()
    past = (TODAY_JST - dt.timedelta(days=1)).isoformat()
    rows = [
        # label, kind, subject, key, expires, stderr pattern
        ("subject without name", "sign", _without("name"), 0, EXPIRES, r'"?name"?.*missing'),
        ("subject without birth", "sign", _without("birth"), 0, EXPIRES, r"birth"),
        ("subject without address_alt", "sign", _without("address_alt"), 0, EXPIRES,
         r"address_alt"),
        ("subject without municipality", "sign", _without("municipality"), 0, EXPIRES,
         r"municipality"),
        ("auth subject without municipality", "auth", {}, 0, EXPIRES, r"municipality"),
        ("name of 101 characters", "sign", _with(name="𠮷" + "あ" * 100, name_alt="0" * 101), 0,
         EXPIRES, r"name.*101|101.*name"),
        ("address of 201 characters", "sign",
         _with(address="東" * 201, address_alt="0" * 201), 0, EXPIRES,
         r"address.*201|201.*address"),
        ("name_alt shorter than name", "sign", _with(name_alt="0000"), 0, EXPIRES, r"name_alt"),
        ("address_alt longer than address", "sign",
         _with(address_alt="0" * (len(subject()["address"]) + 1)), 0, EXPIRES, r"address_alt"),
        ("non-UTF-8 bytes", "sign", good.replace("太郎".encode(), b"\xc2\x90\xff\xfe"), 0,
         EXPIRES, r"UTF-8"),
        ("Shift_JIS subject file", "sign", good.decode().encode("shift_jis"), 0, EXPIRES,
         r"UTF-8"),
        ("sex 4", "sign", _with(sex=4), 0, EXPIRES, r"sex"),
        ("sex 0", "sign", _with(sex=0), 0, EXPIRES, r"sex"),
        ("unknown key", "sign", _with(nickname="taro"), 0, EXPIRES, r"nickname|unknown"),
        ("unknown municipality", "sign", _with(municipality=UNKNOWN_MUNI), 0, EXPIRES,
         UNKNOWN_MUNI),
        ("auth, unknown municipality", "auth", {"municipality": UNKNOWN_MUNI}, 0, EXPIRES,
         UNKNOWN_MUNI),
        ("birth before 1873", "sign", _with(birth="1872-12-31"), 0, EXPIRES, r"birth|1873"),
        ("birth in the future", "sign",
         _with(birth=(TODAY_JST + dt.timedelta(days=2)).isoformat()), 0, EXPIRES, r"birth"),
        ("malformed JSON", "sign", good[:-5], 0, EXPIRES, r"JSON|line \d|expected|end of"),
        ("a JSON array", "sign", b"[1,2]", 0, EXPIRES, r"object|JSON"),
        ("1024-bit RSA key", "sign", subject(), k1024, EXPIRES, r"1024|2048|small"),
        ("1024-bit RSA key (auth)", "auth", subject(), k1024, EXPIRES, r"1024|2048|small"),
        ("EC key", "sign", subject(), ec_pub, EXPIRES, r"RSA"),
        ("expiry in the past", "sign", subject(), 0, past, r"past|expir"),
        ("expiry beyond the issuing CA", "sign", subject(), 0,
         (TODAY_JST + dt.timedelta(days=40 * 365)).isoformat(), r"notAfter|CA|expir|range"),
        ("DER public key file", "sign", subject(), der_pub, EXPIRES, r"PEM|public key"),
        ("text public key file", "sign", subject(), text_pub, EXPIRES, r"PEM|public key"),
        ("private key instead of public", "sign", subject(), priv_pem, EXPIRES,
         r"PEM|public key"),
    ]
    for label, kind, s, key, expires, pattern in rows:
        certs, audits = t.count("certificate"), t.count("audit_log")
        p = t.issue(kind, s, expires=expires, key=key, expect=None)
        if isinstance(p, tuple):
            t.fail(f"{label}: issued a certificate (expected exit 2)")
            continue
        t.eq(p.rc, 2, f"{label}: exit status\n{p.show()}")
        t.check(p.out == b"", f"{label}: printed on stdout: {p.text[:200]!r}")
        t.check(one_line(p), f"{label}: not one stderr line: {p.etext!r}")
        t.check(re.search(pattern, p.etext, re.I),
                f"{label}: stderr does not name the problem (/{pattern}/): {p.etext!r}")
        t.eq(t.count("certificate"), certs, f"{label}: certificate rows")
        t.eq(t.count("audit_log"), audits, f"{label}: audit rows")
    # And the same store still issues.
    t.issue("sign", subject())
    t.jpki("audit", "verify", what="audit verify after refusals")


# ---------------------------------------------------------------- e. revocation

@case("e", "revocation: openssl verify -crl_check, repeat, errors")
def _(t):
    t.init()
    fa, a = t.issue("sign", subject(municipality="131016"))
    fb, b = t.issue("sign", subject(name="鈴木 一郎", municipality="131016"))
    fc, c = t.issue("sign", subject(name="佐藤 花子", municipality="141003"))
    fd, d = t.issue("auth", {"municipality": "131016"})
    shard, crl = t.crl("sign", "131016")
    t.eq(crl.next_update - crl.last_update, dt.timedelta(hours=24),
         "default CRL nextUpdate - lastUpdate")
    full, _ = t.crl("sign")
    for crlf, what in ((shard, "shard"), (full, "full")):
        p = openssl_verify(t, "chain-sign.pem", None, [fa], "before", crl=crlf)
        t.eq(p.rc, 0, f"openssl verify -crl_check with the {what} CRL before revocation\n"
             f"{p.show()}")
    audits = t.count("audit_log")
    p = t.jpki("ca", "revoke", "--serial", serial_hex(a).upper(), "--reason", "keyCompromise",
               what="revoke (uppercase serial)")
    t.check(re.search("revoked", p.text), f"revoke says nothing: {p.text!r}")
    t.eq(t.count("audit_log"), audits + 1, "audit rows after revoke")
    row1 = t.sql(f"SELECT revoked_at, reason FROM revocation WHERE serial = '{serial_hex(a)}'"
                 ).text.strip()
    t.check(row1.endswith("|1"), f"revocation row {row1!r} (reason 1 keyCompromise)")
    shard, crl = t.crl("sign", "131016")
    full, fcrl = t.crl("sign")
    for crlf, what in ((shard, "shard"), (full, "full")):
        p = openssl_verify(t, "chain-sign.pem", None, [fa], "after", crl=crlf)
        t.check(p.rc != 0 and "certificate revoked" in p.text + p.etext,
                f"openssl verify -crl_check with the {what} CRL after revocation\n{p.show()}")
        p = openssl_verify(t, "chain-sign.pem", None, [fb], "other", crl=crlf)
        t.eq(p.rc, 0, f"the unrevoked certificate with the {what} CRL\n{p.show()}")
    shard141, _ = t.crl("sign", "141003")
    p = openssl_verify(t, "chain-sign.pem", None, [fc], "141003", crl=shard141)
    t.eq(p.rc, 0, f"141003's certificate with its shard\n{p.show()}")
    entry = fcrl.get_revoked_certificate_by_serial_number(a.serial_number)
    t.need(entry is not None, "the revoked certificate is not in the full CRL")
    first_time = entry.revocation_date
    # Revoking again: exit 0, says so, changes nothing.
    audits = t.count("audit_log")
    later = iso(time.time() - 1)
    p = t.jpki("ca", "revoke", "--serial", serial_hex(a), "--reason", "superseded",
               "--at", later, what="revoke again")
    t.check(re.search(r"already|nothing|no change|unchanged", p.text + p.etext, re.I),
            f"revoking again does not say it changed nothing: {p.text!r} {p.etext!r}")
    t.check("keyCompromise" in p.text, f"revoking again does not report the first reason: "
            f"{p.text!r}")
    pj = t.jpki("ca", "revoke", "--serial", serial_hex(a), "--reason", "unspecified", "--json",
                what="revoke again --json")
    try:
        j = json.loads(pj.out)
        t.eq(j.get("already"), True, "revoke again --json: already")
        t.eq(j.get("reason"), "keyCompromise", "revoke again --json: reason")
    except ValueError:
        t.fail(f"revoke --json is not JSON: {pj.text!r}")
    t.eq(t.sql(f"SELECT revoked_at, reason FROM revocation WHERE serial = '{serial_hex(a)}'"
               ).text.strip(), row1, "revocation row after revoking again")
    _, fcrl2 = t.crl("sign")
    e2 = fcrl2.get_revoked_certificate_by_serial_number(a.serial_number)
    if t.check(e2 is not None, "the revoked certificate left the CRL"):
        t.eq(e2.revocation_date, first_time, "revocationDate after revoking again")
        r = ext(e2, x509.CRLReason)
        t.eq(r.value.reason if r else None, x509.ReasonFlags.key_compromise,
             "reason after revoking again")
    # --at: the notBefore of b (the earliest allowed).
    at = iso(epoch(b.not_valid_before))
    t.jpki("ca", "revoke", "--serial", serial_hex(b), "--reason", "affiliationChanged",
           "--at", at, what="revoke --at notBefore")
    _, fcrl3 = t.crl("sign")
    e3 = fcrl3.get_revoked_certificate_by_serial_number(b.serial_number)
    if t.check(e3 is not None, "revoked --at: not in the CRL"):
        t.eq(e3.revocation_date, b.not_valid_before, "revocationDate of --at")
    # Errors.
    revs, audits = t.count("revocation"), t.count("audit_log")
    sc = serial_hex(c)
    future = iso(time.time() + 3600)
    before_nb = iso(epoch(c.not_valid_before) - 86400)
    rows = [
        ("unknown serial", ["--serial", "7" + "0" * 31, "--reason", "keyCompromise"], 1),
        ("not hex", ["--serial", "xyz", "--reason", "keyCompromise"], 2),
        ("certificateHold", ["--serial", sc, "--reason", "certificateHold"], 2),
        ("removeFromCRL", ["--serial", sc, "--reason", "removeFromCRL"], 2),
        ("unknown reason", ["--serial", sc, "--reason", "lostMyCard"], 2),
        ("snake_case reason", ["--serial", sc, "--reason", "key_compromise"], 2),
        ("--at in the future", ["--serial", sc, "--reason", "keyCompromise", "--at", future], 2),
        ("--at before notBefore", ["--serial", sc, "--reason", "keyCompromise", "--at",
                                   before_nb], 2),
        ("--at not a time", ["--serial", sc, "--reason", "keyCompromise", "--at", "yesterday"],
         2),
    ]
    for label, args, code in rows:
        p = t.jpki("ca", "revoke", *args, expect=code, what=f"revoke: {label}")
        t.check(one_line(p) and p.out == b"", f"revoke: {label}: output\n{p.show()}")
    t.eq(t.count("revocation"), revs, "revocation rows after refused revocations")
    t.eq(t.count("audit_log"), audits, "audit rows after refused revocations")
    p = openssl_verify(t, "chain-sign.pem", None, [fc], "c", crl=t.crl("sign")[0])
    t.eq(p.rc, 0, f"c is still good after the refused revocations\n{p.show()}")
    # Auth.
    t.jpki("ca", "revoke", "--serial", serial_hex(d), "--reason", "cessationOfOperation",
           what="revoke auth")
    ashard, _ = t.crl("auth", "131016")
    p = openssl_verify(t, "chain-auth.pem", None, [fd], "auth", crl=ashard)
    t.check(p.rc != 0 and "certificate revoked" in p.text + p.etext,
            f"auth certificate with its shard CRL after revocation\n{p.show()}")
    _, sfull = t.crl("sign")
    t.check(sfull.get_revoked_certificate_by_serial_number(d.serial_number) is None,
            "the auth certificate is in the signing CA's CRL")


# ---------------------------------------------------------------- f. CRLs

REASONS = [("keyCompromise", x509.ReasonFlags.key_compromise),
           ("unspecified", None),
           ("affiliationChanged", x509.ReasonFlags.affiliation_changed),
           ("superseded", x509.ReasonFlags.superseded),
           ("cessationOfOperation", x509.ReasonFlags.cessation_of_operation)]


def der_items(b):
    """The TLVs of a DER byte string, one level: [(tag, contents)]."""
    out, off = [], 0
    while off < len(b):
        tag, n = b[off], b[off + 1]
        off += 2
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(b[off:off + k], "big")
            off += k
        out.append((tag, b[off:off + n]))
        off += n
    return out


OID_CRL_NUMBER, OID_IDP, OID_AKI = (bytes.fromhex(h) for h in ("551d14", "551d1c", "551d23"))


def raw_crl_extensions(der):
    """{OID bytes: (critical BOOLEAN contents or None, extnValue)} of a CRL."""
    tbs = der_items(der_items(der)[0][1])[0][1]
    for tag, val in der_items(tbs):
        if tag == 0xA0:  # crlExtensions [0] EXPLICIT
            exts = {}
            for _, e in der_items(der_items(val)[0][1]):
                parts = der_items(e)
                crit = parts[1][1] if parts[1][0] == 0x01 else None
                exts[parts[0][1]] = (crit, parts[-1][1])
            return exts
    return {}


def crl_info(t, crl, der, label):
    """(CRL number, IDP or None, AKI) read with a small DER walker, so that
    the checks go on when cryptography's strict parser refuses the CRL; the
    refusal itself and non-DER BOOLEANs are failures (once per case).
    IDP is (critical, [fullName URIs], {context tag: contents})."""
    raw = raw_crl_extensions(der)
    number = idp = aki = None
    if OID_CRL_NUMBER in raw:
        number = int.from_bytes(der_items(raw[OID_CRL_NUMBER][1])[0][1], "big")
    if OID_AKI in raw:
        aki = dict(der_items(der_items(raw[OID_AKI][1])[0][1])).get(0x80)
    for oid, (crit, _) in raw.items():
        if crit is not None and crit != b"\xff":
            t.fail_once("crit-bool", f"{label}: the critical flag of extension {oid.hex()} "
                        f"is encoded {crit.hex()}; DER requires ff (X.690 11.1)")
    if OID_IDP in raw:
        crit, value = raw[OID_IDP]
        uris, flags = [], {}
        for tag, v in der_items(der_items(value)[0][1]):
            if tag == 0xA0:  # distributionPoint
                for tag2, v2 in der_items(v):
                    if tag2 == 0xA0:  # fullName
                        uris += [v3.decode() for tag3, v3 in der_items(v2) if tag3 == 0x86]
            else:
                flags[tag] = v
        for tag in (0x81, 0x82, 0x84, 0x85):  # the BOOLEAN fields
            if tag in flags and flags[tag] != b"\xff":
                t.fail_once("idp-bool", f"{label}: IssuingDistributionPoint "
                            f"[{tag & 0x1F}] BOOLEAN (onlyContainsUserCerts) is encoded as "
                            f"{flags[tag].hex()}; DER requires ff for TRUE (X.690 11.1, "
                            "RFC 5280 5.2.5), and cryptography refuses the CRL")
        idp = (crit == b"\xff", uris, flags)
    try:
        exts = crl.extensions
        t.eq(exts.get_extension_for_class(x509.CRLNumber).value.crl_number, number,
             f"{label}: CRL number (cryptography)")
        t.eq(ext(crl, x509.IssuingDistributionPoint) is not None, idp is not None,
             f"{label}: IDP present (cryptography)")
    except Exception as e:  # noqa: BLE001
        t.fail_once("crypto-crl", f"{label}: cryptography cannot parse the CRL "
                    f"extensions: {e}")
    return number, idp, aki


def crl_common(t, crl, der_path, ca, ca_name, hours, label):
    t.check(crl.is_signature_valid(ca.public_key()), f"{label}: signature")
    t.eq(crl.issuer, ca.subject, f"{label}: issuer")
    t.eq(crl.signature_algorithm_oid, SignatureAlgorithmOID.RSA_WITH_SHA256,
         f"{label}: signature algorithm")
    t.eq(crl.next_update - crl.last_update, dt.timedelta(hours=hours),
         f"{label}: nextUpdate - lastUpdate")
    number, idp, aki = crl_info(t, crl, der_path.read_bytes(), label)
    t.eq(aki, ext(ca, x509.SubjectKeyIdentifier).value.digest, f"{label}: AKI")
    p = t.tool("certtool", "--crl-info", "--inder", "--infile", der_path,
               what=f"{label}: certtool --crl-info")
    t.check("Revocation List" in p.text, f"{label}: certtool --crl-info output {p.text[:200]!r}")
    pem = t.write(der_path.name + ".pem", crl.public_bytes(serialization.Encoding.PEM))
    p = t.tool("certtool", "--verify-crl", "--load-ca-certificate", t.path(f"{ca_name}.pem"),
               "--infile", pem, what=f"{label}: certtool --verify-crl")
    t.check("Verified" in p.text, f"{label}: certtool --verify-crl did not say Verified")
    p = t.tool("openssl", "crl", "-inform", "DER", "-in", der_path, "-noout", "-text",
               what=f"{label}: openssl crl -text")
    return number, idp, p.text


@case("f", "CRLs: numbers, shards and IDP, reasons, --crl-hours, certtool")
def _(t):
    cas = t.init("--crl-hours", "6")
    codes = list(MUNIS)
    revoked = {"sign": {}, "auth": {}}  # serial -> (muni, reason flag)
    certs = []
    for i, (reason, flag) in enumerate(REASONS):
        muni = codes[i % 3]
        for kind in ("sign", "auth"):
            cf, cert = t.issue(kind, subject(municipality=muni) if kind == "sign"
                               else {"municipality": muni})
            certs.append((kind, muni, cert))
            t.jpki("ca", "revoke", "--serial", serial_hex(cert), "--reason", reason,
                   what=f"revoke {reason}")
            revoked[kind][cert.serial_number] = (muni, flag)
    # Unrevoked ones too.
    for muni in codes:
        certs.append(("sign", muni, t.issue("sign", subject(municipality=muni))[1]))
    # Interleaved generations: each scope numbers on its own.
    order = [("sign", None), ("sign", "131016"), ("sign", None), ("auth", None),
             ("sign", "141003"), ("sign", "131016"), ("sign", None), ("auth", "131016"),
             ("sign", "131016"), ("auth", None), ("sign", "011002")]
    numbers = {}
    for kind, shard in order:
        label = f"{kind} {'shard ' + shard if shard else 'full'} CRL"
        path, crl = t.crl(kind, shard)
        number, idp, text = crl_common(t, crl, path, cas[kind], kind, 6, label)
        if not t.check(number is not None, f"{label}: no CRL number"):
            continue
        numbers.setdefault((kind, shard), []).append(number)
        got = {r.serial_number: r for r in crl}
        if shard:
            url = f"{DEFAULT_BASE}/crl/{kind}/{shard}.crl"
            if t.check(idp is not None, f"{label}: no IssuingDistributionPoint"):
                t.check(idp[0], f"{label}: IDP not critical")
                t.eq(idp[1], [url], f"{label}: IDP fullName")
                t.check(re.search(r"Issuing Distribution Point: critical\s+Full Name:\s+URI:"
                                  + re.escape(url) + r"\b", text),
                        f"{label}: openssl crl -text does not show the critical IDP {url}")
                for k, m, cert in certs:
                    if k == kind and m == shard:
                        dp = ext(cert, x509.CRLDistributionPoints).value
                        t.eq([g.value for g in dp[0].full_name], [url],
                             f"{label}: the CRLDP of its certificates")
            want = {s for s, (m, _) in revoked[kind].items() if m == shard}
        else:
            t.check(idp is None, f"{label}: the full CRL has an IssuingDistributionPoint")
            t.check("Issuing Distribution Point" not in text,
                    f"{label}: openssl crl -text shows an IDP")
            want = set(revoked[kind])
        t.eq(sorted(got), sorted(want), f"{label}: entries")
        for s, entry in got.items():
            if s not in revoked[kind]:
                continue
            flag = revoked[kind][s][1]
            r = ext(entry, x509.CRLReason)
            t.eq(r.value.reason if r else None, flag, f"{label}: reasonCode of {s:x}")
    for scope, nums in numbers.items():
        t.check(all(b > a for a, b in zip(nums, nums[1:])),
                f"CRL numbers of {scope} do not strictly increase: {nums}")
        t.eq(nums, list(range(nums[0], nums[0] + len(nums))),
             f"CRL numbers of {scope} (independent of the other scopes)")
    t.eq(len(numbers), 6, "CRL scopes generated")
    # GnuTLS refuses a CRL under the wrong CA (the check above means something).
    path, crl = t.crl("sign", "131016")
    pem = t.write("wrongca.pem", crl.public_bytes(serialization.Encoding.PEM))
    p = t.run(["certtool", "--verify-crl", "--load-ca-certificate", t.path("auth.pem"),
               "--infile", pem])
    t.check(p.rc != 0 or "Verified." not in p.text,
            f"certtool verifies a signing CRL under the auth CA\n{p.show()}")
    # Unknown shards.
    before = t.sql("SELECT scope, last FROM crl_number ORDER BY scope").text
    audits = t.count("audit_log")
    for shard in (UNKNOWN_MUNI, "131017", "13101", "abcdef"):
        p = t.crl("sign", shard, expect=2)
        t.check(p.out == b"" and one_line(p), f"--shard {shard}: output\n{p.show()}")
    t.eq(t.sql("SELECT scope, last FROM crl_number ORDER BY scope").text, before,
         "crl_number after refused shards")
    t.eq(t.count("audit_log"), audits, "audit rows after refused shards")


@case("f", "CRL entries go only after the certificate expires (pinned JPKI_NOW)")
def _(t):
    t.init(now="2024-01-01T09:00:00+09:00")
    issued_at = "2024-02-01T10:00:00+09:00"
    fx, x = t.issue("sign", subject(), expires="2024-12-31", now=issued_at)
    fy, y = t.issue("sign", subject(name="長生 きる"), expires="2026-12-31", now=issued_at)
    t.eq(x.not_valid_after, dt.datetime(2024, 12, 31, 14, 59, 59), "notAfter of x")
    t.eq(x.not_valid_before, dt.datetime(2024, 2, 1, 1, 0, 0), "notBefore is JPKI_NOW")
    feb15 = int(dt.datetime(2024, 2, 15, 12, 0, tzinfo=JST).timestamp())
    path, crl = t.crl("sign", "131016", now="2024-02-15T10:00:00+09:00")
    t.eq(crl.last_update, dt.datetime(2024, 2, 15, 1, 0, 0), "lastUpdate is JPKI_NOW")
    p = openssl_verify(t, "chain-sign.pem", None, [fx], "x", crl=path, attime=feb15)
    t.eq(p.rc, 0, f"x before revocation at -attime 2024-02-15\n{p.show()}")
    for cert in (x, y):
        t.jpki("ca", "revoke", "--serial", serial_hex(cert), "--reason", "keyCompromise",
               now="2024-03-01T10:00:00+09:00", what="revoke at 2024-03-01")
    jun1 = int(dt.datetime(2024, 6, 1, 12, 0, tzinfo=JST).timestamp())
    for shard in ("131016", None):
        label = f"{'shard' if shard else 'full'} CRL at 2024-06-01"
        path, crl = t.crl("sign", shard, now="2024-06-01T10:00:00+09:00")
        e = crl.get_revoked_certificate_by_serial_number(x.serial_number)
        if t.check(e is not None, f"{label}: x is not listed"):
            t.eq(e.revocation_date, dt.datetime(2024, 3, 1, 1, 0, 0), f"{label}: revocationDate")
        t.check(crl.get_revoked_certificate_by_serial_number(y.serial_number) is not None,
                f"{label}: y is not listed")
        p = openssl_verify(t, "chain-sign.pem", None, [fx], label, crl=path, attime=jun1)
        t.check(p.rc != 0 and "certificate revoked" in p.text + p.etext,
                f"{label}: openssl -attime does not see x revoked\n{p.show()}")
    for when in ("2024-12-31T23:59:59+09:00",):
        _, crl = t.crl("sign", now=when)
        t.check(crl.get_revoked_certificate_by_serial_number(x.serial_number) is not None,
                f"CRL at {when} (x's last second): x is not listed")
    feb1 = int(dt.datetime(2025, 2, 1, 12, 0, tzinfo=JST).timestamp())
    for shard in ("131016", None):
        label = f"{'shard' if shard else 'full'} CRL at 2025-02-01"
        path, crl = t.crl("sign", shard, now="2025-02-01T10:00:00+09:00")
        t.check(crl.get_revoked_certificate_by_serial_number(x.serial_number) is None,
                f"{label}: the expired x is still listed")
        t.check(crl.get_revoked_certificate_by_serial_number(y.serial_number) is not None,
                f"{label}: the unexpired y is not listed")
        p = openssl_verify(t, "chain-sign.pem", None, [fy], label, crl=path, attime=feb1)
        t.check(p.rc != 0 and "certificate revoked" in p.text + p.etext,
                f"{label}: openssl -attime does not see y revoked\n{p.show()}")


# ---------------------------------------------------------------- g. OCSP

@case("g", "OCSP: good, revoked, unknown, nonce, stdin, ocsptool, responder signature")
def _(t):
    cas = t.init()
    fx, x = t.issue("sign", subject())
    fz, z = t.issue("sign", subject(name="善 良子", municipality="141003"))
    fy, y = t.issue("auth", {"municipality": "011002"})
    good, revoked, unknown = (ocsp.OCSPCertStatus.GOOD, ocsp.OCSPCertStatus.REVOKED,
                              ocsp.OCSPCertStatus.UNKNOWN)
    sign_args = dict(responder=cas["ocsp-sign"], issuer=cas["sign"])

    def ocsptool(resp, signer, want, label):
        p = t.tool("ocsptool", "-j", "--load-response", resp, what=f"{label}: ocsptool -j")
        t.check(f"Certificate Status: {want}" in p.text,
                f"{label}: ocsptool -j does not show {want}\n{p.show()}")
        p = t.tool("ocsptool", "-e", "--load-signer", t.path(f"{signer}.pem"),
                   "--load-response", resp, what=f"{label}: ocsptool -e")
        t.check("Verifying OCSP Response: Success" in p.text,
                f"{label}: ocsptool -e does not verify\n{p.show()}")

    # good, with a nonce, --in/--out
    req = t.ocsp_req("sign", cert=fx)
    nonce = req_nonce(req)
    t.need(nonce is not None, "openssl built a request without a nonce")
    resp = t.ocsp(req)
    out = openssl_status(t, resp, "sign", fx, "chain-sign.pem", "good")
    t.check(f"{fx}: good" in out, f"openssl does not say good:\n{out}")
    p = t.tool("openssl", "ocsp", "-reqin", req, "-respin", resp, "-CAfile",
               t.path("chain-sign.pem"), what="openssl ocsp nonce check")
    t.check("Nonce Verify error" not in p.text + p.etext and "no nonce" not in p.etext,
            f"openssl's nonce check fails\n{p.show()}")
    check_ocsp(t, resp.read_bytes(), "good (nonce)", serial=x.serial_number, status=good,
               nonce=nonce, **sign_args)
    ocsptool(resp, "ocsp-sign", "good", "good")
    # good without a nonce, stdin/stdout
    req_nn = t.ocsp_req("sign", cert=fz, nonce=False)
    t.eq(req_nonce(req_nn), None, "-no_nonce request has a nonce")
    resp = t.ocsp(req_nn, stdin=True)
    out = openssl_status(t, resp, "sign", fz, "chain-sign.pem", "good (stdin)")
    t.check(f"{fz}: good" in out, f"stdin/stdout: openssl does not say good:\n{out}")
    check_ocsp(t, resp.read_bytes(), "good (no nonce, stdin)", serial=z.serial_number,
               status=good, nonce=None, **sign_args)
    # revoked
    t.jpki("ca", "revoke", "--serial", serial_hex(x), "--reason", "keyCompromise")
    rev_row = t.sql(f"SELECT revoked_at FROM revocation WHERE serial = '{serial_hex(x)}'").text
    rev_time = utc_naive(int(rev_row.strip() or 0))
    for label, nn in (("revoked (nonce)", True), ("revoked (no nonce)", False)):
        req = t.ocsp_req("sign", cert=fx, nonce=nn)
        resp = t.ocsp(req)
        out = openssl_status(t, resp, "sign", fx, "chain-sign.pem", label)
        t.check(f"{fx}: revoked" in out, f"{label}: openssl does not say revoked:\n{out}")
        t.check("Reason: keyCompromise" in out, f"{label}: no 'Reason: keyCompromise':\n{out}")
        t.check(f"Revocation Time: {openssl_time(rev_time)}" in out,
                f"{label}: revocation time is not {openssl_time(rev_time)}:\n{out}")
        check_ocsp(t, resp.read_bytes(), label, serial=x.serial_number, status=revoked,
                   reason=x509.ReasonFlags.key_compromise, rev_time=rev_time,
                   nonce=req_nonce(req), **sign_args)
        ocsptool(resp, "ocsp-sign", "revoked", label)
    # unknown serial
    req = t.ocsp_req("sign", serial="0x1234")
    resp = t.ocsp(req)
    p = t.tool("openssl", "ocsp", "-reqin", req, "-respin", resp, "-CAfile",
               t.path("chain-sign.pem"), "-resp_text", what="unknown: openssl ocsp")
    t.check("Response verify OK" in p.text + p.etext, f"unknown: not verified\n{p.show()}")
    t.check(re.search(r"Cert Status: unknown", p.text), f"unknown: openssl text\n{p.show()}")
    check_ocsp(t, resp.read_bytes(), "unknown", serial=0x1234, status=unknown,
               nonce=req_nonce(req), **sign_args)
    ocsptool(resp, "ocsp-sign", "unknown", "unknown")
    # auth via the ocsp-auth responder
    req = t.ocsp_req("auth", cert=fy)
    resp = t.ocsp(req)
    out = openssl_status(t, resp, "auth", fy, "chain-auth.pem", "auth")
    t.check(f"{fy}: good" in out, f"auth: openssl does not say good:\n{out}")
    check_ocsp(t, resp.read_bytes(), "auth", responder=cas["ocsp-auth"], issuer=cas["auth"],
               serial=y.serial_number, status=good, nonce=req_nonce(req))
    ocsptool(resp, "ocsp-auth", "good", "auth")
    p = t.run(["ocsptool", "-e", "--load-signer", t.path("ocsp-sign.pem"), "--load-response",
               resp])
    t.check(p.rc != 0, "ocsptool verifies an auth response with the ocsp-sign certificate")
    # An auth serial asked of the signing CA is not good.
    req = t.ocsp_req("sign", serial=hex(y.serial_number))
    resp = t.ocsp(req)
    check_ocsp(t, resp.read_bytes(), "auth serial under the signing CA",
               serial=y.serial_number, status=unknown, nonce=req_nonce(req), **sign_args)


# ---------------------------------------------------------------- h. OCSP errors

@case("h", "OCSP errors: malformedRequest, unauthorized (exit 0, DER)")
def _(t):
    t.init()
    fx, x = t.issue("sign", subject())
    good = t.ocsp_req("sign", cert=fx).read_bytes()
    # A throwaway CA made with openssl, and a certificate of it.
    t.tool("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
           t.path("other.key"), "-out", t.path("other.pem"), "-subj", "/C=JP/O=other CA",
           "-days", "30")
    t.tool("openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout",
           t.path("leaf.key"), "-out", t.path("leaf.csr"), "-subj", "/C=JP/CN=leaf")
    t.tool("openssl", "x509", "-req", "-in", t.path("leaf.csr"), "-CA", t.path("other.pem"),
           "-CAkey", t.path("other.key"), "-CAcreateserial", "-out", t.path("leaf.pem"),
           "-days", "30")
    other = t.ocsp_req("other", cert=t.path("leaf.pem")).read_bytes()
    other_serial = t.ocsp_req("other", serial=hex(x.serial_number), nonce=False).read_bytes()
    rows = [
        ("random bytes", os.urandom(200), 1),
        ("random bytes with a SEQUENCE tag", b"\x30\x82\x01\x00" + os.urandom(256), 1),
        ("empty request", b"", 1),
        ("truncated request", good[:len(good) // 2], 1),
        ("truncated by one byte", good[:-1], 1),
        ("trailing garbage", good + b"\x00garbage", 1),
        ("two requests back to back", good + good, 1),
        ("a certificate instead of a request",
         x.public_bytes(serialization.Encoding.DER), 1),
        # The request's outer length in BER long form (0x81 NN): valid BER,
        # not DER (RFC 6960 4.1.1 requires DER).
        ("BER, not DER (long-form length)",
         b"\x30\x81" + good[1:2] + good[2:] if good[1] < 0x80 else b"\x30\x82\x00" + good[2:],
         1),
        ("another CA's certificate", other, 6),
        ("our serial under another CA", other_serial, 6),
    ]
    for label, data, status in rows:
        for stdin in (False, True):
            how = "stdin" if stdin else "--in"
            resp = t.ocsp(data, stdin=stdin)
            der = resp.read_bytes()
            try:
                r = ocsp.load_der_ocsp_response(der)
                t.eq(r.response_status.value, status, f"{label} ({how}): responseStatus")
            except Exception as e:  # noqa: BLE001
                t.fail(f"{label} ({how}): cryptography cannot parse the response: {e}")
        name = {1: "malformedrequest", 6: "unauthorized"}[status]
        p = t.run(["openssl", "ocsp", "-respin", resp, "-resp_text", "-noverify"])
        t.check(f"{name} ({status})" in (p.text + p.etext).lower(),
                f"{label}: openssl does not read {name}\n{p.show()}")
        p = t.run(["ocsptool", "-j", "--load-response", resp])
        t.check(p.rc == 0 and "Response Status:" in p.text,
                f"{label}: ocsptool -j cannot read it\n{p.show()}")


# ---------------------------------------------------------------- i. pre-signed OCSP

@case("i", "pre-signed OCSP: identical answers, nonce live, never a stale good")
def _(t):
    cas = t.init()
    fx, x = t.issue("sign", subject())
    r1 = t.ocsp_req("sign", cert=fx, nonce=False)
    r1b = t.ocsp_req("sign", cert=fx, nonce=False)
    a = t.ocsp(r1).read_bytes()
    b = t.ocsp(r1).read_bytes()
    c = t.ocsp(r1b, stdin=True).read_bytes()
    t.check(a == b, "two identical no-nonce requests got different responses")
    t.check(a == c, "a second identical no-nonce request (stdin) got a different response")
    t.eq(t.count("ocsp_response"), 1, "stored responses")
    n1, n2 = t.ocsp_req("sign", cert=fx), t.ocsp_req("sign", cert=fx)
    ra, rb = t.ocsp(n1).read_bytes(), t.ocsp(n2).read_bytes()
    t.check(ra != rb and ra != a and rb != a, "nonce requests got a stored response")
    check_ocsp(t, ra, "nonce 1", responder=cas["ocsp-sign"], issuer=cas["sign"],
               serial=x.serial_number, status=ocsp.OCSPCertStatus.GOOD, nonce=req_nonce(n1))
    check_ocsp(t, rb, "nonce 2", responder=cas["ocsp-sign"], issuer=cas["sign"],
               serial=x.serial_number, status=ocsp.OCSPCertStatus.GOOD, nonce=req_nonce(n2))
    # Revocation: the stored good is never served again.
    t.jpki("ca", "revoke", "--serial", serial_hex(x), "--reason", "keyCompromise")
    for i in range(3):
        d = t.ocsp(r1, stdin=bool(i % 2)).read_bytes()
        t.check(d != a, f"answer {i + 1} after revocation is the stored good response")
        check_ocsp(t, d, f"answer {i + 1} after revocation", responder=cas["ocsp-sign"],
                   issuer=cas["sign"], serial=x.serial_number,
                   status=ocsp.OCSPCertStatus.REVOKED,
                   reason=x509.ReasonFlags.key_compromise)
    out = openssl_status(t, t.ocsp(r1), "sign", fx, "chain-sign.pem", "after revocation")
    t.check(f"{fx}: revoked" in out, f"openssl after revocation:\n{out}")
    # Not even after a refresh, or at later times.
    produced = ocsp.load_der_ocsp_response(a).produced_at
    for dtime in (dt.timedelta(hours=1), dt.timedelta(days=3)):
        when = iso(epoch(produced + dtime))
        t.jpki("ca", "refresh-ocsp", now=when, what=f"refresh-ocsp at +{dtime}")
        d = t.ocsp(r1, now=when).read_bytes()
        check_ocsp(t, d, f"after refresh at +{dtime}", responder=cas["ocsp-sign"],
                   issuer=cas["sign"], serial=x.serial_number,
                   status=ocsp.OCSPCertStatus.REVOKED,
                   reason=x509.ReasonFlags.key_compromise)


@case("i", "refresh-ocsp re-signs at half the validity")
def _(t):
    cas = t.init()
    fx, x = t.issue("sign", subject())
    r1 = t.ocsp_req("sign", cert=fx, nonce=False)
    first = t.ocsp(r1).read_bytes()
    p0 = ocsp.load_der_ocsp_response(first).produced_at
    T0 = epoch(p0)
    args = dict(responder=cas["ocsp-sign"], issuer=cas["sign"], serial=x.serial_number,
                status=ocsp.OCSPCertStatus.GOOD)

    def refresh(at, want, label):
        p = t.jpki("ca", "refresh-ocsp", "--json", now=at, what=f"refresh-ocsp {label}")
        try:
            t.eq(json.loads(p.out).get("signed"), want, f"refresh-ocsp {label}: signed")
        except ValueError:
            t.fail(f"refresh-ocsp --json {label}: not JSON: {p.text!r}")
        p = t.jpki("ca", "refresh-ocsp", now=at, what=f"refresh-ocsp {label} (text)")
        t.check(re.search(r"\b0\b", p.text), f"refresh-ocsp {label}: a second run signed "
                f"something: {p.text!r}")

    # One hour later: nothing is due.
    refresh(iso(T0 + 3600), 0, "+1h")
    t.eq(t.sql("SELECT produced_at FROM ocsp_response").text.strip(), str(T0),
         "producedAt after the +1h refresh")
    d = t.ocsp(r1, now=iso(T0 + 3600)).read_bytes()
    t.check(d == first, "+1h: not the stored response")
    # More than half of 4 days later: re-signed.
    t1 = T0 + 2 * 86400 + 3600
    refresh(iso(t1), 1, "+2d1h")
    t.eq(t.sql("SELECT produced_at FROM ocsp_response").text.strip(), str(t1),
         "producedAt after the +2d1h refresh")
    d = t.ocsp(r1, now=iso(t1 + 600)).read_bytes()
    r = check_ocsp(t, d, "served after the refresh", **args)
    if r:
        t.check(d != first, "the response served after the refresh is the first one")
        t.eq(r.this_update, utc_naive(t1), "thisUpdate of the refreshed response (JPKI_NOW "
             "of refresh-ocsp)")
        # producedAt is the real signing time (RFC 6960 4.2.2.1; docs/internals/
        # pki.md), while thisUpdate follows JPKI_NOW.
        t.check(abs(r.produced_at - utc_naive(time.time())).total_seconds() < 120,
                f"producedAt of the refreshed response is the real signing time, "
                f"got {r.produced_at}")
    resp = t.write("refreshed.der", d)
    out = openssl_status(t, resp, "sign", fx, "chain-sign.pem", "refreshed",
                         extra=("-validity_period", str(3 * 86400)))
    t.check(f"{fx}: good" in out, f"refreshed: openssl:\n{out}")
    # Without a refresh, a stale stored response is not served: signed live.
    t2 = t1 + 2 * 86400 + 60
    d = t.ocsp(r1, now=iso(t2)).read_bytes()
    r = check_ocsp(t, d, "after half the validity without a refresh", **args)
    if r:
        t.eq(r.this_update, utc_naive(t2), "thisUpdate of a response signed live past half "
             "the stored one's validity")
        t.check(abs(r.produced_at - utc_naive(time.time())).total_seconds() < 120,
                f"producedAt of a live response is the real signing time, got "
                f"{r.produced_at}")


@case("i", "a revocation racing a live OCSP answer never leaves a stored good")
def _(t):
    """A miss is signed live and then stored. Interleave deterministically: hold
    the store's write lock with sqlite3 so that `jpki ca ocsp` reads "good",
    signs and waits for the lock; stop it (SIGSTOP), release the lock, revoke,
    let it go on (SIGCONT). Whatever it stores, the next answer must say
    revoked (DOMAIN §4: a revoked certificate never becomes good again).

    PostgreSQL queues lock waiters itself: the stopped process's server
    session is granted the lock when psql lets go of it, so there the
    revocation is started, waits for the lock, and goes on once the answer,
    let go on, has stored its response and committed; the other order
    cannot happen."""
    import signal
    t.init()
    fx, x = t.issue("sign", subject())
    req = t.ocsp_req("sign", cert=fx, nonce=False)
    raced = t.path("raced.der")
    if t.url:  # the store's advisory lock, as jpki's begin takes it
        holder = subprocess.Popen([pg_tool("psql"), "-X", "-q", "-A", "-t", "-v",
                                   "ON_ERROR_STOP=1", "-d", t.url], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        lock = (f"BEGIN; SELECT 'locked' FROM (SELECT pg_advisory_xact_lock({PG_LOCK_KEY})) "
                "AS l;\n")
    else:
        holder = subprocess.Popen(["sqlite3", str(t.db)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        lock = "BEGIN IMMEDIATE;\nSELECT 'locked';\n"
    answer = None
    try:
        holder.stdin.write(lock)
        holder.stdin.flush()
        t.need(holder.stdout.readline().strip() == "locked", "could not lock the store")
        answer = subprocess.Popen([JPKI, *map(str, t.store_args), "ca", "ocsp", "--in",
                                   str(req), "--out", str(raced)], env=clean_env(),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # it reads, signs and waits for the lock (busy timeout, lock_timeout: 5 s)
        time.sleep(1.5)
        os.kill(answer.pid, signal.SIGSTOP)
        holder.stdin.write("COMMIT;\n\\q\n" if t.url else "COMMIT;\n.quit\n")
        holder.stdin.flush()
        holder.wait(timeout=30)
        revoke = ["ca", "revoke", "--serial", serial_hex(x), "--reason", "keyCompromise"]
        if t.url:
            rev = subprocess.Popen([JPKI, *map(str, t.store_args), *revoke], env=clean_env(),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            time.sleep(0.5)  # it waits for the lock the stopped answer holds
            os.kill(answer.pid, signal.SIGCONT)
            _, rerr = rev.communicate(timeout=60)
            t.eq(rev.returncode, 0, f"revoke while an OCSP answer is in flight ({rerr!r})")
        else:
            t.jpki(*revoke, what="revoke while an OCSP answer is in flight")
            os.kill(answer.pid, signal.SIGCONT)
        out, err = answer.communicate(timeout=60)
        t.eq(answer.returncode, 0, f"the stopped ca ocsp: exit status ({err!r})")
    finally:
        for proc in (holder, answer):
            if proc is not None and proc.poll() is None:
                try:
                    os.kill(proc.pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
                proc.kill()
                proc.wait()
    t.need(raced.exists(), "the stopped ca ocsp wrote no response")
    first = ocsp.load_der_ocsp_response(raced.read_bytes())
    if first.certificate_status != ocsp.OCSPCertStatus.GOOD:
        print(f"    note: the in-flight answer read {first.certificate_status}; "
              "the interleaving did not happen, nothing to check", flush=True)
        return
    for i in range(2):
        d = t.ocsp(req).read_bytes()
        r = ocsp.load_der_ocsp_response(d)
        t.eq(r.certificate_status, ocsp.OCSPCertStatus.REVOKED,
             f"answer {i + 1} to a no-nonce request after the revocation committed (a live "
             "answer that read 'good' before the revocation stored it afterwards)")


# ---------------------------------------------------------------- j. audit

@case("j", "audit: one row per CA operation, verify, tampering, triggers")
def _(t):
    rows = 0

    def step(label, fn):
        nonlocal rows
        before = t.count("audit_log") if t.store_exists() else 0
        res = fn()
        after = t.count("audit_log")
        t.eq(after - before, 1, f"audit rows added by {label}")
        rows = after
        return res

    step("ca init", lambda: t.init())
    certs = [step(f"issue {i}", lambda i=i: t.issue("sign" if i != 2 else "auth",
                                                    subject() if i != 2 else
                                                    {"municipality": "141003"}))
             for i in range(3)]
    step("revoke 1", lambda: t.jpki("ca", "revoke", "--serial", serial_hex(certs[0][1]),
                                    "--reason", "keyCompromise"))
    step("revoke 2", lambda: t.jpki("ca", "revoke", "--serial", serial_hex(certs[2][1]),
                                    "--reason", "cessationOfOperation"))
    step("crl shard", lambda: t.crl("sign", "131016"))
    step("crl full", lambda: t.crl("auth"))
    step("refresh-ocsp", lambda: t.jpki("ca", "refresh-ocsp"))
    p = t.jpki("audit", "verify", what="audit verify")
    p = t.jpki("audit", "verify", "--json", what="audit verify --json")
    try:
        j = json.loads(p.out)
        t.eq((j.get("ok"), j.get("rows"), j.get("bad_seq")), (True, rows, None),
             "audit verify --json")
    except ValueError:
        t.fail(f"audit verify --json: {p.text!r}")
    t.eq(t.sql("SELECT group_concat(seq) FROM (SELECT seq FROM audit_log ORDER BY seq)",
               pg="SELECT string_agg(seq::text, ',' ORDER BY seq) FROM audit_log"
               ).text.strip(),
         ",".join(str(i) for i in range(1, rows + 1)), "audit sequence numbers")
    # The database refuses edits while the triggers exist.
    snap = t.sql("SELECT * FROM audit_log ORDER BY seq").text
    rsnap = t.sql("SELECT * FROM revocation ORDER BY serial").text
    for q in ("UPDATE audit_log SET details = '{}' WHERE seq = 3",
              "UPDATE audit_log SET actor = 'mallory'",
              "DELETE FROM audit_log WHERE seq = 3",
              "DELETE FROM audit_log",
              "UPDATE revocation SET reason = 0",
              "UPDATE revocation SET revoked_at = revoked_at + 1",
              "DELETE FROM revocation"):
        p = t.sql(q, expect=None)
        t.check(p.rc != 0, f"{q!r} was allowed\n{p.show()}")
    t.eq(t.sql("SELECT * FROM audit_log ORDER BY seq").text, snap, "audit_log after refusals")
    t.eq(t.sql("SELECT * FROM revocation ORDER BY serial").text, rsnap,
         "revocation after refusals")
    t.jpki("audit", "verify", what="audit verify after refused edits")
    # Tamper with row 3.
    t.sql("DROP TRIGGER audit_log_no_update", pg="DROP TRIGGER audit_log_no_update ON audit_log")
    t.sql("UPDATE audit_log SET details = '{\"tampered\":true}' WHERE seq = 3")
    p = t.jpki("audit", "verify", expect=1, what="audit verify after tampering")
    t.check(re.search(r"(row|seq\w*|#)\s*3\b", p.etext, re.I),
            f"audit verify does not name row 3: {p.etext!r}")
    t.check(one_line(p), f"audit verify: not one line: {p.etext!r}")
    p = t.jpki("audit", "verify", "--json", expect=1, what="audit verify --json after tampering")
    try:
        t.eq(json.loads(p.out).get("bad_seq"), 3, "audit verify --json bad_seq")
    except ValueError:
        t.fail(f"audit verify --json after tampering: {p.text!r} {p.etext!r}")


# ---------------------------------------------------------------- main

def main():
    global KEYS
    for tool in ("openssl", "certtool", "ocsptool") + (() if PG else ("sqlite3",)):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed")
    if PG:
        for tool in ("psql", "pg_dump"):
            if pg_tool(tool) is None:
                sys.exit(f"{tool} is not installed")
        print(f"store: PostgreSQL, a database per case on {STORE_URL}", flush=True)
    start = time.time()
    failures, ran = [], 0
    with tempfile.TemporaryDirectory(prefix="jpki-interop-keys-") as kd:
        KEYS = Keys(kd)
        for group, name, fn in CASES:
            if group not in GROUPS:
                continue
            ran += 1
            c0 = time.time()
            with tempfile.TemporaryDirectory(prefix="jpki-interop-") as tmp:
                url = None
                if PG:
                    dbname = f"case_{ran:03d}"
                    pg_admin(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
                    pg_admin(f"CREATE DATABASE {dbname}")
                    url = pg_url_for(dbname)
                t = T(name, tmp, url)
                try:
                    fn(t)
                except Abort:
                    pass
                except Exception:  # noqa: BLE001
                    t.fail("exception:\n" + traceback.format_exc())
                finally:
                    if PG:
                        pg_admin(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
            status = "ok" if not t.failures else f"FAILED ({len(t.failures)})"
            print(f"{group}  {name}: {status}  [{time.time() - c0:.1f}s]", flush=True)
            failures += [(group, name, f) for f in t.failures]
    print(f"\n{ran} cases, {len(failures)} failures, {time.time() - start:.1f}s")
    for group, name, f in failures:
        print(f"\nFAIL {group} {name}:\n  " + f.replace("\n", "\n  "))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
