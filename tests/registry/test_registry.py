#!/usr/bin/python3
"""The registry (lib/registry, jpki resident|card|cert|reconcile|demo) end to end.

usage: /usr/bin/python3 test_registry.py JPKI_BINARY SOURCE_DIR --backend sqlite|postgresql
       [--only SCENARIO,...] [--jobs N]

Scenarios (each in a store of its own; --jobs, default 2, run at a time):
  issue       eligibility (adult, 14- and 15-year-olds by legal age, 18 for the
              10-year card, adult wards with/without --ward-present, foreign
              residents whose period of stay caps card and certificates, Feb 29
              and JST-midnight births, the last day of a period of stay and the
              day after (1)), expiry dates, the card file against the
              store, an existing card file (2), a second active card (1),
              resident list --expiring
  renew       in the window (6th birthday, capped by the card), before it (1;
              --early: 5th birthday), after expiry and after revocation (fresh),
              wrong PINs (1, tries spent), month-end and Feb 29 windows, an
              adult ward without --ward-present, a minor turning 15, an expired
              card (refused; reconcile marks it; a new card), CRL and OCSP
  events      move/rename/correct (signing certificate, affiliationChanged),
              decease/remove (both, cessationOfOperation, card abolished, every
              further event refused), card return/lost, voluntary revocation
              (again: 1; unknown serial: 2), another resident's card, renewals
              after the events (new data in the new signing certificate), all
              seen in cert list, the CRLs and OCSP; resident list --expiring
  crash-issue / crash-renew
              JPKI_FAILPOINT at every step of card issue and renewal (and of the
              certificate writes in each), then jpki reconcile: rolled back
              (store and card as before) or completed (card = store), and a
              second reconcile has nothing to do; operations after it work
  crash-mixed a crashed renewal meets a second renewal (1), a held card lock
              (reconcile: busy, exit 1) and resident events (decease, remove,
              card lost/return, move) before reconcile; an adult ward and a
              minor turning 15 crashed after the new auth key
  concurrent  two renewals of one resident at once: exactly one wins; two card
              issues at once: one card; a renewal racing move, rename, decease
              and card lost (the test waits for the renewal's intent row, then
              runs the event): the rules must hold afterwards
  bad-input   exit 2 and the store (its rows), the card file and the audit log
              unchanged; a valid command as the control
  demo        demo seed --residents 200 --seed 7: counts, every card file
              against the store, the rules, the same seed the same residents

Every good signing certificate met is also read: its subjectAltName must carry
the holder's current name, sex, birth (EYYYYMMDD) and address (DOMAIN §8), and
the 代替文字 position fields digit strings (docs/CLI.md); such a check repeated
on every certificate is reported once per scenario, then counted.

Expected dates are computed here from DOMAIN.md §1-2 (legal age, Nth
birthday after issuance, Feb 29 -> Feb 28, month arithmetic), never taken
from jpki's own output. Card files are also read directly (their layout is
documented in lib/card/image.c): the certificates on the card must be
signed by the store's CA and certify the card's own key pairs.

On postgresql one throw-away server (tests/pg/pgserver.py) holds a database
per scenario. `jpki init` runs once per backend into a template store
(SQLite file or PostgreSQL template database) that each scenario clones,
with a copy of its keys directory. Every check prints one line; the exit
status is 1 if any failed.
"""
import argparse
import calendar
import concurrent.futures
import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509 import ocsp

NOW = "2026-02-21T10:00:00+09:00"
JST = dt.timezone(dt.timedelta(hours=9))
MUNI = "131164"
ADDR = "東京都豊島区南池袋1丁目1番1号"
PINS = {"sign": "ABC123", "auth": "1234", "juki": "1234", "text": "1234"}
PINS_NOSIGN = {"auth": "1234", "juki": "1234", "text": "1234"}
NAMES = [("佐藤 一郎", "サトウ イチロウ"), ("鈴木 花子", "スズキ ハナコ"),
         ("高橋 次郎", "タカハシ ジロウ"), ("田中 美咲", "タナカ ミサキ"),
         ("伊藤 健太", "イトウ ケンタ"), ("渡辺 陽子", "ワタナベ ヨウコ")]
REASONS = {"unspecified": "unspecified", "key_compromise": "keyCompromise",
           "affiliation_changed": "affiliationChanged", "superseded": "superseded",
           "cessation_of_operation": "cessationOfOperation"}

PRINT_LOCK = threading.Lock()
FAILURES = []


def say(line):
    with PRINT_LOCK:
        print(line, flush=True)


# ---------------------------------------------------------------- dates
# DOMAIN §1-2, written out independently of lib/core.

def day(s):
    return s if isinstance(s, dt.date) else dt.date.fromisoformat(s)


def jst_day(now):
    return dt.datetime.fromisoformat(now).astimezone(JST).date()


def utc(now):
    return dt.datetime.fromisoformat(now).astimezone(dt.timezone.utc)


def birthday_in(birth, year):
    """The birthday in a year; Feb 29 falls on Feb 28 in common years (feb29=feb28)."""
    if birth.month == 2 and birth.day == 29 and not calendar.isleap(year):
        return dt.date(year, 2, 28)
    return dt.date(year, birth.month, birth.day)


def nth_birthday_after(birth, d, n):
    """The Nth birthday strictly after day d."""
    y = d.year if birthday_in(birth, d.year) > d else d.year + 1
    return birthday_in(birth, y + n - 1)


def ordinary_age(birth, d):
    return d.year - birth.year - ((d.month, d.day) < (birth.month, birth.day))


def legal_age(birth, d):
    """年齢計算ニ関スル法律: one year older at the end of the day before the birthday."""
    return ordinary_age(birth, d + dt.timedelta(days=1))


def add_months(d, n):
    y, m = divmod(d.month - 1 + n, 12)
    y += d.year
    return dt.date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


def window(expiry):
    """Renewal window: the day after the date three months before, to expiry."""
    return add_months(expiry, -3) + dt.timedelta(days=1), expiry


def card_expiry(birth, today, stay=None):
    adult = 18 if today >= dt.date(2022, 4, 1) else 20
    e = nth_birthday_after(birth, today, 10 if legal_age(birth, today) >= adult else 5)
    return min(e, stay) if stay else e


def cert_expiry(birth, today, n, card_exp, stay=None, auth_exp=None):
    caps = [nth_birthday_after(birth, today, n), card_exp]
    caps += [x for x in (stay, auth_exp) if x]
    return min(caps)


def sign_eligible(birth, today, ward, ward_present):
    return legal_age(birth, today) >= 15 and (not ward or ward_present)


def not_after(expiry):
    """A certificate is valid to 23:59:59 JST of its expiry day."""
    return dt.datetime(expiry.year, expiry.month, expiry.day, 23, 59, 59, tzinfo=JST) \
        .astimezone(dt.timezone.utc).replace(tzinfo=None)


# ---------------------------------------------------------------- card files

def der_item(b, pos):
    """One DER TLV at pos: (tag, value start, value end)."""
    tag, ln = b[pos], b[pos + 1]
    pos += 2
    if ln & 0x80:
        n = ln & 0x7F
        ln = int.from_bytes(b[pos:pos + n], "big")
        pos += n
    return tag, pos, pos + ln


def rsa_public_of_private(der):
    """(n, e) of a PKCS#1 RSAPrivateKey (version, n, e, ...): a plain DER walk,
    much faster than loading the key with its consistency checks."""
    tag, pos, end = der_item(der, 0)
    if tag != 0x30:
        raise ValueError("RSAPrivateKey: not a SEQUENCE")
    ints = []
    while pos < end and len(ints) < 3:
        tag, s, e = der_item(der, pos)
        if tag != 0x02:
            raise ValueError("RSAPrivateKey: not an INTEGER")
        ints.append(int.from_bytes(der[s:e], "big"))
        pos = e
    if len(ints) < 3 or ints[0] != 0:
        raise ValueError("RSAPrivateKey: bad version")
    return ints[1], ints[2]


def pub_of_cert(c):
    n = c.public_key().public_numbers()
    return n.n, n.e


SAN_ARC = "1.2.392.200149.8.5.5."   # DOMAIN §8: .1 name .2 name alt positions .3 sex
                                     # .4 birth EYYYYMMDD .5 address .6 address alt
ERAS = [(dt.date(2019, 5, 1), 5), (dt.date(1989, 1, 8), 4), (dt.date(1926, 12, 25), 3),
        (dt.date(1912, 7, 30), 2), (dt.date(1868, 1, 1), 1)]


def san_fields(cert):
    """{n: text} of the otherNames under 1.2.392.200149.8.5.5.n."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return {}
    out = {}
    for g in san:
        if isinstance(g, x509.OtherName) and g.type_id.dotted_string.startswith(SAN_ARC):
            v = g.value
            tag, s, e = der_item(v, 0)
            if tag == 0xA0:     # the [0] EXPLICIT wrapper, if kept
                tag, s, e = der_item(v, s)
            out[int(g.type_id.dotted_string[len(SAN_ARC):])] = v[s:e].decode("utf-8")
    return out


def expected_san(name, sex, birth, address):
    era = next(code for start, code in ERAS if birth >= start)
    return {1: name, 3: str(sex), 4: f"{era}{birth:%Y%m%d}", 5: address}


def check_san(sc, label, cert, name, sex, birth, address):
    """The signing certificate carries the resident's current data; the
    代替文字 position strings are digits, one per character of their field."""
    f = san_fields(cert)
    want = expected_san(name, sex, birth, address)
    sc.check({k: f.get(k) for k in want} == want,
             f"{label}: the signing certificate carries the resident's current name, sex, "
             "birth and address", {k: f.get(k) for k in want})
    alt_ok = all(f.get(k) is not None and f[k].isascii() and f[k].isdigit() and
                 len(f[k]) == len(f.get(k - 1) or "") for k in (2, 6))
    sc.check(alt_ok, f"{label}: 氏名/住所代替文字の使用位置 (…5.5.2, …5.5.6) are digit strings, "
             "one digit per character of the name/address (docs/CLI.md)",
             {k: f.get(k) for k in (2, 6)}, once="alt")


@contextlib.contextmanager
def card_locked(path):
    """Holds the card file's lock as a running operation (or card serve) would."""
    with open(path, "rb") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def parse_card(path):
    """The card image (lib/card/image.c): records tag u16 | len u32 | value,
    trailer 0xFFFF with the SHA-256 of what precedes it."""
    b = Path(path).read_bytes()
    if b[:8] != b"JPKICARD":
        raise ValueError(f"{path}: not a card image")
    pos, out = 12, {"keys": {}, "efs": [], "pins": {}, "serial": None, "muni": None}
    while pos + 6 <= len(b):
        tag, ln = struct.unpack(">HI", b[pos:pos + 6])
        v = b[pos + 6:pos + 6 + ln]
        if tag == 0xFFFF:
            if hashlib.sha256(b[:pos]).digest() != v:
                raise ValueError(f"{path}: bad checksum")
            return out
        if tag == 1:
            out["serial"] = v.hex()
        elif tag == 4:
            out["muni"] = v.decode()
        elif tag == 0x10:
            out["pins"][v[0]] = {"set": bool(v[1]), "tries": v[2], "max": v[3]}
        elif tag == 0x20:
            out["keys"][v[0]] = rsa_public_of_private(v[1:])
        elif tag == 0x30:
            out["efs"].append(v[1:])
        pos += 6 + ln
    raise ValueError(f"{path}: no trailer")


KEY_INDEX = {"sign": 0, "auth": 1}  # JPKI_KEY_SIGN, JPKI_KEY_AUTH (include/jpki/card.h)


# ---------------------------------------------------------------- runs and stores

class Abort(Exception):
    pass


class Run:
    def __init__(self, cmd, cp):
        self.cmd, self.rc = cmd, cp.returncode
        self.out = cp.stdout.decode("utf-8", "replace")
        self.err = cp.stderr.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return (f"`jpki {' '.join(self.cmd)}` exit {self.rc}; stdout {self.out[:300]!r}; "
                f"stderr {self.err[:300]!r}")


def base_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("JPKI_")}
    env.setdefault("LANG", "C.UTF-8")
    return env


class Store:
    def __init__(self, backend, name, directory, url, keys, dump, query=None, fp=None):
        self.backend, self.name, self.dir = backend, name, Path(directory)
        self.url, self.keys, self._dump, self.query, self.fp = url, keys, dump, query, fp
        self._ca = {}
        self.serial_no = 0

    def popen(self, *args, now=NOW, env=None):
        e = base_env()
        e["JPKI_NOW"] = now
        e.update(env or {})
        cmd = ["--store", self.url, "--keys", str(self.keys), *map(str, args)]
        return subprocess.Popen([JPKI, *cmd], cwd=self.dir, env=e, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL), cmd

    def jpki(self, *args, now=NOW, env=None, timeout=180, raw_store=None):
        e = base_env()
        e["JPKI_NOW"] = now
        e.update(env or {})
        if raw_store is not None:
            cmd = [*raw_store, *map(str, args)]
        else:
            cmd = ["--store", self.url, "--keys", str(self.keys), *map(str, args)]
        cp = subprocess.run([JPKI, *cmd], cwd=self.dir, env=e, capture_output=True,
                            stdin=subprocess.DEVNULL, timeout=timeout)
        return Run(cmd, cp)

    def dump(self):
        return self._dump()

    def fingerprint(self):
        """A cheap digest of every row (one query), to tell whether a dump is needed."""
        if self.fp is not None:
            return self.fp()
        return hashlib.sha256("\n".join(self.dump()).encode()).hexdigest()

    def file(self, name, data):
        p = self.dir / name
        p.write_bytes(data if isinstance(data, bytes) else data.encode())
        return p

    def pins(self, name, pins):
        return self.file(name, json.dumps(pins))

    def ca(self, which):
        if which not in self._ca:
            r = self.jpki("ca", "cert", which)
            if r.rc != 0:
                raise Abort(f"ca cert {which}: {r}")
            self._ca[which] = x509.load_pem_x509_certificate(r.out.encode())
            self.file(f"ca-{which}.pem", r.out)
        return self._ca[which]


class SqliteBackend:
    name = "sqlite"

    def __init__(self, tmp):
        self.tmp = Path(tmp)
        self.templates = {}
        self.lock = threading.Lock()

    def template(self, kind):
        with self.lock:
            if kind not in self.templates:
                d = self.tmp / f"template-{kind}"
                d.mkdir()
                args = ["init", "--insecure-no-passphrase"]
                if kind == "history":
                    args += ["--history-from", "2016-01-04"]
                st = Store(self, "template", d, str(d / "s.db"), d / "keys", None)
                r = st.jpki(*args)
                if r.rc != 0:
                    raise Abort(f"init: {r}")
                self.templates[kind] = d
            return self.templates[kind]

    def new_store(self, name, kind="plain"):
        t = self.template(kind)
        d = self.tmp / name
        d.mkdir()
        for f in t.iterdir():
            if f.name.startswith("s.db"):
                shutil.copy2(f, d / f.name)
        shutil.copytree(t / "keys", d / "keys")
        db = d / "s.db"

        def dump():
            """Every row of every table, as sorted 'table<TAB>row' lines."""
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            try:
                tables = [r[0] for r in con.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'")]
                return sorted(f"{t}\t{row!r}" for t in tables
                              for row in con.execute(f'SELECT * FROM "{t}"'))
            finally:
                con.close()

        def query(sql):
            """The first column of the first row (instrumentation: a race's timing)."""
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
            try:
                row = con.execute(sql).fetchone()
                return row[0] if row else None
            finally:
                con.close()
        return Store(self, name, d, str(db), d / "keys", dump, query)


class PgBackend:
    name = "postgresql"

    def __init__(self, tmp, pg):
        self.tmp, self.pg = Path(tmp), pg
        self.templates = {}
        self.lock = threading.Lock()

    def _tool(self, *argv):
        cp = subprocess.run([self.pg.bin(argv[0]), "-h", self.pg.dir, "-U", "postgres",
                             *argv[1:]], capture_output=True, timeout=120)
        if cp.returncode != 0:
            raise Abort(f"{argv}: {cp.stderr.decode(errors='replace')}")
        return cp.stdout.decode("utf-8", "replace")

    def template(self, kind):
        with self.lock:
            if kind not in self.templates:
                name = f"tmpl_{kind}"
                d = self.tmp / f"template-{kind}"
                d.mkdir()
                url = self.pg.createdb(name)
                args = ["init", "--insecure-no-passphrase"]
                if kind == "history":
                    args += ["--history-from", "2016-01-04"]
                st = Store(self, "template", d, url, d / "keys", None)
                r = st.jpki(*args)
                if r.rc != 0:
                    raise Abort(f"init: {r}")
                self.templates[kind] = (name, d)
            return self.templates[kind]

    def new_store(self, name, kind="plain"):
        tname, tdir = self.template(kind)
        db = name.replace("-", "_")
        d = self.tmp / name
        d.mkdir()
        with self.lock:
            for attempt in range(10):
                try:
                    self._tool("createdb", "-T", tname, db)
                    break
                except Abort:
                    if attempt == 9:
                        raise
                    time.sleep(0.5)
        shutil.copytree(tdir / "keys", d / "keys")

        def dump():
            """Every row of every table, as sorted 'table<TAB>row' lines (the COPY
            blocks of pg_dump; sequence positions, which move with a rolled-back
            insert, are left out)."""
            text = self._tool("pg_dump", "--data-only", "--no-owner", "--no-privileges", db)
            rows, table = [], None
            for line in text.splitlines():
                if line.startswith("COPY "):
                    table = line.split()[1].split(".")[-1].strip('"')
                elif line == "\\.":
                    table = None
                elif table is not None:
                    rows.append(f"{table}\t{line}")
            return sorted(rows)

        def query(sql):
            out = self._tool("psql", "-At", "-d", db, "-c", sql).strip()
            return int(out) if out.isdigit() else out or None

        tables = []

        def fp():
            if not tables:
                tables.extend(query("SELECT string_agg(tablename, ',' ORDER BY tablename) "
                                    "FROM pg_tables WHERE schemaname = 'public'").split(","))
            return query("SELECT " + " || ".join(
                f"(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                f"FROM public.\"{t}\" t)" for t in tables))
        return Store(self, name, d, self.pg.url(db), d / "keys", dump, query, fp)


# ---------------------------------------------------------------- scenarios

class Sc:
    """One scenario: its store, its checks."""

    def __init__(self, name, store):
        self.name, self.st = name, store
        self.checks = self.failed = 0
        self.repeats = {}

    def check(self, cond, msg, detail=None, once=None):
        """once: a key for a check repeated on every certificate; after its first
        failure further failures are only counted (reported at the end)."""
        self.checks += 1
        if once is not None and not cond and once in self.repeats:
            self.repeats[once] += 1
            return cond
        if once is not None and not cond:
            self.repeats[once] = 0
        if cond:
            say(f"  ok    [{self.name}] {msg}")
        else:
            self.failed += 1
            text = f"[{self.name}] {msg}" + (f": {detail}" if detail is not None else "")
            FAILURES.append(text)
            say(f"  FAIL  {text}")
        return cond

    def require(self, cond, msg, detail=None):
        if not self.check(cond, msg, detail):
            raise Abort(f"cannot go on after: {msg}")

    # -- running jpki
    def ok(self, msg, *args, **kw):
        r = self.st.jpki(*args, **kw)
        self.require(r.rc == 0, msg, r)
        return r

    def refused(self, msg, *args, words=(), **kw):
        """Exit 1 with one line 'English / 日本語' on stderr."""
        r = self.st.jpki(*args, **kw)
        lines = r.err.strip().splitlines()
        good = (r.rc == 1 and len(lines) == 1 and " / " in lines[0]
                and any(ord(c) > 0x3000 for c in lines[0])
                and all(w.lower() in r.err.lower() for w in words))
        self.check(good, f"{msg}: exit 1, one bilingual line"
                   + (f" naming {', '.join(words)}" if words else ""), r)
        return r

    def audit_ok(self, now=NOW):
        r = self.st.jpki("audit", "verify", "--json", now=now)
        ok = r.rc == 0 and r.json().get("ok") is True
        self.check(ok, "audit verify: the hash chain is intact", r)
        return r.json().get("rows") if ok else None

    def reconcile(self, now=NOW):
        r = self.st.jpki("reconcile", "--json", now=now)
        self.check(r.rc == 0, "reconcile exits 0", r)
        try:
            return r.json()
        except ValueError:
            return {}


def changed_tables(before, after):
    return {line.split("\t", 1)[0] for line in set(before) ^ set(after)}


class Cert:
    def __init__(self, serial, kind, issued, expires, card):
        self.serial, self.kind, self.issued, self.expires = serial.lower(), kind, issued, expires
        self.card = card
        self.reason = None
        self.revoked_at = None

    def status(self, d):
        return "revoked" if self.reason else "expired" if self.expires < d else "good"


class Person:
    """A resident and what the rules say they hold."""
    count = 0

    def __init__(self, sc, label, birth, stay=None, nationality=None, ward=False,
                 postal=None, now=NOW):
        self.sc, self.label, self.birth = sc, label, day(birth)
        self.stay = day(stay) if stay else None
        self.nationality, self.ward = nationality, ward
        Person.count += 1
        self.name, self.kana = NAMES[Person.count % len(NAMES)]
        self.address = ADDR
        self.certs = {}    # serial -> Cert
        self.cards = {}    # serial -> dict(expires, state, path)
        self.status, self.status_on = "registered", None
        self.sex = 2 if Person.count % 2 else 1
        args = ["resident", "add", "--name", self.name, "--kana", self.kana, "--birth",
                self.birth, "--sex", self.sex, "--address",
                self.address, "--municipality", MUNI]
        if postal:
            args += ["--postal-code", postal]
        if self.stay:
            args += ["--stay-expires", self.stay]
        if nationality:
            args += ["--nationality", nationality]
        if ward:
            args.append("--adult-ward")
        r = sc.ok(f"{label}: resident add", *args, now=now)
        self.id = int(r.out.strip())

    def active_card(self):
        for serial, c in self.cards.items():
            if c["state"] == "active":
                return serial, c
        return None, None

    def good(self, d, kind=None):
        return [c for c in self.certs.values()
                if c.status(d) == "good" and (kind is None or c.kind == kind)]

    def revoke(self, cert, reason, now):
        cert.reason, cert.revoked_at = reason, utc(now)


def verify_person(sc, p, now=NOW, what="", with_list=True):
    """resident show (and cert list) against the model."""
    d = jst_day(now)
    st = sc.st
    r = st.jpki("resident", "show", p.id, "--json", now=now)
    if not sc.check(r.rc == 0, f"{p.label}{what}: resident show", r):
        return
    j = r.json()
    sc.check(j["status"] == p.status and j["status_on"] == (str(p.status_on) if p.status_on
                                                              else None)
             and j["birth"] == str(p.birth) and j["name"] == p.name and j["kana"] == p.kana
             and j["address"] == p.address and j["sex"] == p.sex,
             f"{p.label}{what}: resident fields (status {p.status}, birth {p.birth})",
             {k: j[k] for k in ("status", "status_on", "birth", "name", "kana", "address", "sex")})
    want_cards = {s: (str(c["expires"]), c["state"]) for s, c in p.cards.items()}
    got_cards = {c["serial"]: (c["expires"], c["state"]) for c in j["cards"]}
    sc.check(got_cards == want_cards, f"{p.label}{what}: cards and states as expected",
             f"got {got_cards}, want {want_cards}")
    want = {s: (c.kind, str(c.expires), c.status(d), c.reason) for s, c in p.certs.items()}
    for source, certs in (("resident show", j["certificates"]),
                          ("cert list", None))[:2 if with_list else 1]:
        if certs is None:
            r2 = st.jpki("cert", "list", "--resident", p.id, "--json", now=now)
            if not sc.check(r2.rc == 0, f"{p.label}: cert list", r2):
                continue
            certs = r2.json()
        got = {c["serial"].lower(): (c["kind"], c["expires"], c["status"], c["reason"])
               for c in certs}
        sc.check(got == want, f"{p.label}{what}: {source} shows every certificate with "
                 "its expiry, status and reason", f"got {got}, want {want}")


def check_card(sc, p, path, now=NOW, what=""):
    """The card file holds the card's current certificates (by kind, the newest
    issued to this card and not superseded: after a renewal or a crash
    recovery, exactly the store's good ones), each issued by the store's CA for
    the card's own key pair and valid to 23:59:59 JST of its expiry day; card
    status --json says the same."""
    st = sc.st
    serial = next(s for s, c in p.cards.items() if Path(c["path"]) == Path(path))
    want = {}
    for c in p.certs.values():   # in issuance order: the last one wins
        if c.card == serial and c.reason != "superseded":
            want[c.kind] = (int(c.serial, 16), c.expires)
    r = st.jpki("card", "status", "--card", path, "--json", now=now)
    if sc.check(r.rc == 0, f"{p.label}{what}: card status", r):
        got = {c["kind"]: (int(c["serial"], 16), day(c["expires"])) for c in r.json()["certs"]}
        sc.check(got == want, f"{p.label}{what}: card status lists the card's current "
                 "certificates in the store", f"card {got}, store {want}")
    try:
        card = parse_card(path)
    except (OSError, ValueError) as e:
        sc.check(False, f"{p.label}{what}: the card file parses", e)
        return None
    sc.check(card["serial"] == serial, f"{p.label}{what}: the file is card {serial}",
             card["serial"])
    holder = {}
    for der in card["efs"]:
        try:
            c = x509.load_der_x509_certificate(der)
        except ValueError:
            continue
        try:
            if c.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
                continue
        except x509.ExtensionNotFound:
            pass
        kind = ("sign" if c.issuer == st.ca("sign").subject else
                "auth" if c.issuer == st.ca("auth").subject else "?")
        holder[kind] = c
    got = {k: (c.serial_number, None) for k, c in holder.items()}
    sc.check({k: v[0] for k, v in got.items()} == {k: v[0] for k, v in want.items()},
             f"{p.label}{what}: the card file's certificate EFs are the card's current "
             "certificates in the store", f"file {sorted((k, hex(v[0])) for k, v in got.items())}, "
             f"store {sorted((k, hex(v[0])) for k, v in want.items())}")
    for kind, c in holder.items():
        if kind not in want:
            continue
        sc.check(c.not_valid_after == not_after(want[kind][1]),
                 f"{p.label}{what}: {kind} certificate notAfter is {want[kind][1]} "
                 "23:59:59 JST", c.not_valid_after)
        key = card["keys"].get(KEY_INDEX[kind])
        sc.check(key is not None and key == pub_of_cert(c),
                 f"{p.label}{what}: the {kind} certificate certifies the card's {kind} key")
        try:
            st.ca(kind).public_key().verify(c.signature, c.tbs_certificate_bytes,
                                           padding.PKCS1v15(), c.signature_hash_algorithm)
            ok = True
        except Exception as e:  # noqa: BLE001 - any failure is the finding
            ok = e
        sc.check(ok is True, f"{p.label}{what}: the {kind} certificate is signed by the "
                 f"{kind} CA", ok)
        model = next((x for x in p.certs.values() if int(x.serial, 16) == c.serial_number),
                      None)
        if kind == "sign" and model is not None and not model.reason:
            check_san(sc, f"{p.label}{what}", c, p.name, p.sex, p.birth, p.address)
        if kind == "auth":
            sc.check(not san_fields(c), f"{p.label}{what}: the auth certificate carries no "
                     "personal data", san_fields(c))
    return card


def issue(sc, p, now=NOW, ward_present=False, pins=None, path=None):
    """card issue; every expected date computed here."""
    st, d = sc.st, jst_day(now)
    path = Path(path or st.dir / f"{p.label}-{len(p.cards)}.card")
    card_exp = card_expiry(p.birth, d, p.stay)
    auth_exp = cert_expiry(p.birth, d, 5, card_exp, p.stay)
    sign = sign_eligible(p.birth, d, p.ward, ward_present)
    sign_exp = cert_expiry(p.birth, d, 5, card_exp, p.stay, auth_exp) if sign else None
    if pins is None:
        pins = st.pins("pins.json", PINS) if sign else st.pins("pins-nosign.json", PINS_NOSIGN)
    args = ["card", "issue", "--resident", p.id, "--card", path, "--pins", pins, "--json"]
    if ward_present:
        args.append("--ward-present")
    r = sc.ok(f"{p.label}: card issue on {d}", *args, now=now)
    j = r.json()
    got = {c["kind"]: (c["expires"], c["issued"], c["status"]) for c in j["certificates"]}
    want = {"auth": (str(auth_exp), str(d), "good")}
    if sign:
        want["sign"] = (str(sign_exp), str(d), "good")
    sc.check(j["card_expires"] == str(card_exp),
             f"{p.label}: card expires {card_exp} (born {p.birth}, legal age "
             f"{legal_age(p.birth, d)} on {d}{', stay to ' + str(p.stay) if p.stay else ''})",
             j["card_expires"])
    sc.check(got == want, f"{p.label}: certificates " + ", ".join(
        f"{k} to {v[0]}" for k, v in sorted(want.items()))
        + ("" if sign else " (no signing certificate)"), got)
    p.cards[j["card"]] = {"expires": card_exp, "state": "active", "path": path}
    for c in j["certificates"]:
        p.certs[c["serial"].lower()] = Cert(c["serial"], c["kind"], d, day(c["expires"]),
                                            j["card"])
    verify_person(sc, p, now, with_list=False)
    card = check_card(sc, p, path, now)
    if card is not None:
        sc.check(card["pins"].get(0, {}).get("set") == sign,
                 f"{p.label}: the signing PIN is {'set' if sign else 'not set'} on the card",
                 card["pins"].get(0))
    return j


def renew(sc, p, now, early=False, ward_present=False, pins=None, expect_fresh=None):
    """cert renew, expecting success; dates computed here."""
    st, d = sc.st, jst_day(now)
    serial, c = p.active_card()
    old = p.good(d)
    ref = next((x.expires for x in old if x.kind == "auth"), None) or \
        next((x.expires for x in old), None)
    if ref is None:
        fresh, n, is_early = True, 5, False
    else:
        first, _ = window(ref)
        fresh, is_early = False, d < first
        n = 5 if is_early else 6
    if expect_fresh is not None:
        sc.check(fresh == expect_fresh, f"{p.label}: (test setup) fresh issuance expected "
                 f"{expect_fresh}")
    sign = sign_eligible(p.birth, d, p.ward, ward_present)
    auth_exp = cert_expiry(p.birth, d, n, c["expires"], p.stay)
    sign_exp = cert_expiry(p.birth, d, n, c["expires"], p.stay, auth_exp) if sign else None
    pins = pins or st.pins("pins.json", PINS)
    args = ["cert", "renew", "--resident", p.id, "--card", c["path"], "--pins", pins, "--json"]
    if early:
        args.append("--early")
    if ward_present:
        args.append("--ward-present")
    r = sc.ok(f"{p.label}: cert renew on {d}" + (" --early" if early else ""), *args, now=now)
    j = r.json()
    kind_txt = f"{n}th birthday after {d}" + (f", capped by the card ({c['expires']})"
                                               if nth_birthday_after(p.birth, d, n)
                                               > c["expires"] else "")
    sc.check(j["fresh"] == fresh and j["early"] == is_early,
             f"{p.label}: renewal on {d} is fresh={fresh} early={is_early}",
             {k: j[k] for k in ("fresh", "early")})
    got = {x["kind"]: x["expires"] for x in j["certificates"]}
    want = {"auth": str(auth_exp)}
    if sign:
        want["sign"] = str(sign_exp)
    sc.check(got == want, f"{p.label}: renewed certificates expire "
             f"{', '.join(f'{k} {v}' for k, v in sorted(want.items()))} ({kind_txt})", got)
    got_rev = {x["serial"].lower(): (x["kind"], x["reason"]) for x in j["revoked"]}
    want_rev = {x.serial: (x.kind, "superseded") for x in old}
    sc.check(got_rev == want_rev, f"{p.label}: the old good certificate(s) "
             f"({', '.join(sorted(x.kind for x in old)) or 'none'}) revoked superseded, "
             "each with its kind", f"got {got_rev}, want {want_rev}")
    for x in old:
        p.revoke(x, "superseded", now)
    for x in j["certificates"]:
        p.certs[x["serial"].lower()] = Cert(x["serial"], x["kind"], d, day(x["expires"]),
                                            serial)
    verify_person(sc, p, now, " after renewal")
    card = check_card(sc, p, c["path"], now, " after renewal")
    if card is not None:
        sc.check(all(v["tries"] == v["max"] for k, v in card["pins"].items() if v["set"]),
                 f"{p.label}: PIN tries full after a good renewal", card["pins"])
    return j


def card_tries(sc, path, now=NOW):
    r = sc.st.jpki("card", "status", "--card", path, "--json", now=now)
    return {k: v["tries_left"] for k, v in r.json()["pins"].items()} if r.rc == 0 else None


def cert_snapshot(sc, p, now=NOW):
    r = sc.st.jpki("cert", "list", "--resident", p.id, "--json", now=now)
    return r.out if r.rc == 0 else None


def crl_map(sc, kind, now):
    st = sc.st
    out = st.dir / f"{kind}.crl"
    r = st.jpki("ca", "crl", "--kind", kind, "--out", out, now=now)
    if not sc.check(r.rc == 0, f"ca crl --kind {kind}", r):
        return None
    crl = x509.load_der_x509_crl(out.read_bytes())
    sc.check(crl.is_signature_valid(st.ca(kind).public_key()),
             f"the {kind} CRL is signed by the {kind} CA")
    sc.check(crl.last_update == utc(now).replace(tzinfo=None),
             f"the {kind} CRL's thisUpdate is now ({now})", crl.last_update)
    entries = {}
    for e in crl:
        try:
            reason = REASONS[e.extensions.get_extension_for_class(x509.CRLReason)
                             .value.reason.name]
        except x509.ExtensionNotFound:
            reason = None
        entries[e.serial_number] = (reason, e.revocation_date)
    return entries


def ocsp_status(sc, kind, serial, now):
    """openssl builds the request, jpki ca ocsp answers, cryptography reads it."""
    st = sc.st
    st.ca(kind)   # writes ca-KIND.pem for openssl
    req, resp = st.dir / f"ocsp-{serial}.req", st.dir / f"ocsp-{serial}.resp"
    cp = subprocess.run(["openssl", "ocsp", "-issuer", st.dir / f"ca-{kind}.pem",
                         "-serial", f"0x{serial}", "-no_nonce", "-reqout", req],
                        capture_output=True, timeout=60)
    if not sc.check(cp.returncode == 0, f"openssl ocsp builds a request for {serial}",
                    cp.stderr):
        return None
    r = st.jpki("ca", "ocsp", "--in", req, "--out", resp, now=now)
    if not sc.check(r.rc == 0, f"ca ocsp answers for {serial}", r):
        return None
    o = ocsp.load_der_ocsp_response(resp.read_bytes())
    if o.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        return (o.response_status.name, None)
    signer = st.ca(f"ocsp-{kind}")
    try:
        signer.public_key().verify(o.signature, o.tbs_response_bytes, padding.PKCS1v15(),
                                   o.signature_hash_algorithm)
        sig = True
    except Exception as e:  # noqa: BLE001
        sig = e
    sc.check(sig is True and o.serial_number == int(serial, 16),
             f"the OCSP answer for {serial} is about it and signed by the {kind} responder",
             sig)
    reason = REASONS.get(o.revocation_reason.name) if o.revocation_reason else None
    return (o.certificate_status.name, reason)


def check_revocation_services(sc, persons, now, ocsp_serials=()):
    """CRLs list every revoked, unexpired certificate of the persons with its
    reason and time, and no good one; OCSP agrees for the serials given."""
    d = jst_day(now)
    for kind in ("sign", "auth"):
        entries = crl_map(sc, kind, now)
        if entries is None:
            continue
        for p in persons:
            for c in p.certs.values():
                if c.kind != kind:
                    continue
                e = entries.get(int(c.serial, 16))
                if c.reason and c.expires >= d:
                    sc.check(e is not None and e[0] == c.reason and
                             e[1] == c.revoked_at.replace(tzinfo=None),
                             f"{p.label}: the {kind} CRL lists {c.serial} ({c.reason}, "
                             f"at {c.revoked_at:%Y-%m-%d %H:%M}Z)", e)
                elif not c.reason:
                    sc.check(e is None, f"{p.label}: the {kind} CRL does not list the good "
                             f"certificate {c.serial}", e)
    index = {c.serial: c for p in persons for c in p.certs.values()}
    for serial in ocsp_serials:
        c = index.get(serial)
        kind = c.kind if c else "sign"
        got = ocsp_status(sc, kind, serial, now)
        if c is None:
            want = ("UNKNOWN", None)
        elif c.reason:
            want = ("REVOKED", c.reason)
        else:
            want = ("GOOD", None)
        sc.check(got == want, f"OCSP ({kind}) for {serial}: {want[0].lower()}"
                 + (f" ({want[1]})" if want[1] else ""), got)


def check_expiring(sc, persons, months, now=NOW):
    """resident list --expiring YYYY-MM: exactly the residents with a good
    certificate or an active card expiring that month (from the model)."""
    d = jst_day(now)
    for ym in months:
        want = set()
        for p in persons:
            exps = [c.expires for c in p.good(d)]
            exps += [c["expires"] for c in p.cards.values() if c["state"] == "active"]
            if any(f"{e:%Y-%m}" == ym for e in exps):
                want.add(p.id)
        r = sc.st.jpki("resident", "list", "--expiring", ym, "--json", now=now)
        if sc.check(r.rc == 0, f"resident list --expiring {ym}", r):
            got = {x["id"] for x in r.json()}
            sc.check(got == want, f"resident list --expiring {ym}: residents "
                     f"{sorted(want)}", f"got {sorted(got)}")


def invariants(sc, rid, label, now=NOW):
    """Model-free: what the store and the card say must agree with the rules.
    A removed or deceased resident, or one without an active card, has no good
    certificate; the active card holds exactly the good ones; a good signing
    certificate carries the resident's current data."""
    st = sc.st
    r = st.jpki("resident", "show", rid, "--json", now=now)
    if not sc.check(r.rc == 0, f"{label}: resident show", r):
        return
    j = r.json()
    good = {c["serial"].lower(): c for c in j["certificates"] if c["status"] == "good"}
    active = [c for c in j["cards"] if c["state"] == "active"]
    if j["status"] != "registered" or not active:
        sc.check(not good, f"{label}: {j['status']}, card(s) "
                 f"{[c['state'] for c in j['cards']]}: no good certificate is left",
                 sorted((c["kind"], s) for s, c in good.items()))
        return
    path = Path(active[0]["file"])
    path = path if path.is_absolute() else st.dir / path
    if not sc.check(path.exists(), f"{label}: the active card's file exists "
                    f"(card {active[0]['serial']}, {len(good)} good certificate(s))", path):
        return
    r = st.jpki("card", "status", "--card", path, "--json", now=now)
    if not sc.check(r.rc == 0, f"{label}: card status", r):
        return
    on_card = {c["serial"].lower().lstrip("0") for c in r.json()["certs"]}
    known = {c["serial"].lower().lstrip("0"): c for c in j["certificates"]}
    sc.check({s.lstrip("0") for s in good} <= on_card,
             f"{label}: the active card holds every good certificate of the store",
             f"card {sorted(on_card)}, store {sorted(good)}")
    # Besides, the card may still hold a certificate revoked for a data change
    # (it stays on the card until replaced), never a superseded or unknown one.
    stale = {s: known[s]["reason"] if s in known else "unknown to the store"
             for s in on_card - {s.lstrip("0") for s in good}
             if s not in known or known[s]["reason"] == "superseded"}
    sc.check(not stale, f"{label}: no superseded (replaced) or unknown certificate left on "
             "the card", stale)
    card = parse_card(path)
    for der in card["efs"]:
        try:
            c = x509.load_der_x509_certificate(der)
        except ValueError:
            continue
        if c.issuer == st.ca("sign").subject and \
                format(c.serial_number, "x") in {s.lstrip("0") for s in good}:
            check_san(sc, label, c, j["name"], j["sex"], day(j["birth"]), j["address"])
            sc.check(card["keys"].get(KEY_INDEX["sign"]) == pub_of_cert(c),
                     f"{label}: the good signing certificate certifies the card's key")


# ---------------------------------------------------------------- 1. issue

def sc_issue(sc):
    st = sc.st
    people = []

    def person(*a, **kw):
        p = Person(sc, *a, **kw)
        people.append(p)
        return p

    adult = person("adult", "1990-05-20")
    issue(sc, adult)
    # 14 by legal age (15 at the end of 2026-02-22): auth only, no sign PIN needed.
    minor = person("minor14", "2011-02-23")
    issue(sc, minor, pins=st.pins("pins-nosign.json", PINS_NOSIGN))
    # 15 by legal age on 2026-02-21 (ordinary age 14): signing certificate.
    fifteen = person("legal15", "2011-02-22")
    issue(sc, fifteen)
    # 18 by legal age (ordinary 17): a 10-year card.
    eighteen = person("legal18", "2008-02-22")
    issue(sc, eighteen)
    seventeen = person("legal17", "2008-02-23")
    issue(sc, seventeen)
    ward = person("ward", "1950-08-08", ward=True)
    issue(sc, ward, pins=st.pins("pins-nosign.json", PINS_NOSIGN))
    ward2 = person("ward-present", "1952-09-09", ward=True)
    issue(sc, ward2, ward_present=True)
    foreign = person("foreign", "1995-01-10", stay="2028-08-31", nationality="VN")
    issue(sc, foreign)
    foreign2 = person("foreign2", "1993-04-15", stay="2033-03-31", nationality="PH")
    issue(sc, foreign2)
    leap = person("feb29", "2000-02-29")
    issue(sc, leap)
    # Feb 29 birth issued in a common year on Mar 1: the 5th birthday is in a leap year.
    leap2 = person("feb29-mar1", "1996-02-29")
    issue(sc, leap2, now="2027-03-01T10:00:00+09:00")
    # The day is JST: 2026-02-21T15:30Z is 2026-02-22 00:30 JST, the birthday itself,
    # which is not "after" the issue day.
    midnight = person("jst-midnight", "1990-02-22")
    issue(sc, midnight, now="2026-02-21T15:30:00Z")
    monthend = person("month-end", "1980-12-31")
    issue(sc, monthend)
    # The period of stay ends 2027-01-31: refused (1) the day after, issued on
    # the last day (card and certificates end that day).
    lastday = person("stay-last-day", "1990-01-01", stay="2027-01-31", nationality="VN")
    after = st.dir / "stay-after.card"
    sc.refused("stay-last-day: card issue the day after the stay ended", "card", "issue",
               "--resident", lastday.id, "--card", after, "--pins",
               st.pins("pins.json", PINS), now="2027-02-01T10:00:00+09:00",
               words=("stay",))
    sc.check(not after.exists(), "stay-last-day: no card file after the refusal")
    issue(sc, lastday, now="2027-01-31T10:00:00+09:00")

    # An existing card file: bad input (2), the file untouched, nothing stored.
    other = person("no-card", "1985-03-03")
    existing = st.file("existing.card", b"not a card")
    before = st.dump()
    r = st.jpki("card", "issue", "--resident", other.id, "--card", existing, "--pins",
                st.pins("pins.json", PINS))
    sc.check(r.rc == 2 and "exist" in r.err, "card issue onto an existing file: exit 2", r)
    sc.check(existing.read_bytes() == b"not a card", "the existing file is untouched")
    sc.check(st.dump() == before, "the store is unchanged")
    r = st.jpki("card", "issue", "--resident", other.id, "--card",
                adult.cards[next(iter(adult.cards))]["path"], "--pins",
                st.pins("pins.json", PINS))
    sc.check(r.rc == 2, "card issue onto another resident's card file: exit 2", r)
    verify_person(sc, other, with_list=False)
    # A second active card: refused (1), no file made.
    second = st.dir / "adult-second.card"
    before = st.dump()
    sc.refused("adult: a second active card", "card", "issue", "--resident", adult.id,
               "--card", second, "--pins", st.pins("pins.json", PINS), words=("active",))
    sc.check(not second.exists(), "no second card file was made")
    sc.check(st.dump() == before, "the store is unchanged after the refusal")
    verify_person(sc, adult, with_list=False)
    check_expiring(sc, people, ["2028-08", "2030-02", "2030-05", "2030-12", "2031-01",
                                "2031-02", "2032-02", "2033-03", "2035-02", "2035-05",
                                "2030-06", "2029-12", "2030-04"])
    sc.audit_ok()


# ---------------------------------------------------------------- 2. renew

def sc_renew(sc):
    st = sc.st
    pins = st.pins("pins.json", PINS)
    p1 = Person(sc, "window", "1990-05-20")        # certs 2030-05-20, card 2035-05-20
    p2 = Person(sc, "early", "1985-07-10")         # certs 2030-07-10, card 2035-07-10
    p3 = Person(sc, "may31", "1980-05-31")         # certs 2030-05-31, window from 03-01
    p4 = Person(sc, "feb29", "2000-02-29")         # certs 2030-02-28, window from 2029-11-29
    p5 = Person(sc, "dec31", "1970-12-31")         # certs 2030-12-31, window from 10-01
    p6 = Person(sc, "minor", "2011-06-01")         # auth only until 15
    w = Person(sc, "ward", "1960-04-10", ward=True)
    for p in (p1, p2, p3, p4, p5, p6):
        issue(sc, p)
    issue(sc, w, ward_present=True)

    def at(s):
        return f"{s}T10:00:00+09:00"

    def not_yet(p, when):
        _, c = p.active_card()
        before = cert_snapshot(sc, p, at(when))
        sc.refused(f"{p.label}: renewal on {when}, the day before the window, without "
                   "--early", "cert", "renew", "--resident", p.id, "--card", c["path"],
                   "--pins", pins, now=at(when), words=("window",))
        sc.check(cert_snapshot(sc, p, at(when)) == before,
                 f"{p.label}: certificates unchanged after the refusal")

    # The window boundaries (computed here): first day - 1 is refused.
    for p, first in ((p1, "2030-02-21"), (p3, "2030-03-01"), (p4, "2029-11-29"),
                     (p5, "2030-10-01")):
        exp = p.good(jst_day(NOW), "auth")[0].expires
        sc.check(str(window(exp)[0]) == first, f"(test) window of {exp} opens {first}")
    not_yet(p1, "2026-03-01")
    # A minor turning 15: the renewal adds the signing certificate and sets its PIN.
    renew(sc, p6, at("2026-07-01"), early=True)
    # An adult ward without --ward-present: auth only, the signing certificate
    # superseded and gone from the card.
    renew(sc, w, at("2026-07-01"), early=True)
    # Before the window with --early: the 5th birthday.
    renew(sc, p2, at("2027-01-15"), early=True)
    # Voluntarily revoked, then renewed: a fresh issuance (5th birthday).
    for c in p2.good(day("2027-01-20")):
        sc.ok(f"early: cert revoke {c.kind}", "cert", "revoke", "--serial", c.serial,
              "--reason", "cessationOfOperation", "--json", now=at("2027-01-20"))
        p2.revoke(c, "cessationOfOperation", at("2027-01-20"))
    renew(sc, p2, at("2027-02-01"), expect_fresh=True)
    # Feb 29: the window opens 2029-11-29; 6th birthday (capped by the card).
    not_yet(p4, "2029-11-28")
    renew(sc, p4, at("2029-11-29"))
    # In the window, with wrong PINs first.
    not_yet(p1, "2030-02-20")
    _, c1 = p1.active_card()
    for kind, bad, left in (("auth", {**PINS, "auth": "9999"}, {"auth": 2, "sign": 5}),
                            ("sign", {**PINS, "sign": "XYZ789"}, {"auth": 3, "sign": 4})):
        before = cert_snapshot(sc, p1, at("2030-02-21"))
        card_before = parse_card(c1["path"])
        sc.refused(f"window: renewal with a wrong {kind} PIN", "cert", "renew", "--resident",
                   p1.id, "--card", c1["path"], "--pins", st.pins(f"bad-{kind}.json", bad),
                   now=at("2030-02-21"), words=("PIN",))
        tries = card_tries(sc, c1["path"], at("2030-02-21"))
        sc.check(tries is not None and {k: tries[k] for k in left} == left,
                 f"window: after a wrong {kind} PIN the tries left are {left}", tries)
        sc.check(cert_snapshot(sc, p1, at("2030-02-21")) == before,
                 f"window: certificates unchanged after a wrong {kind} PIN")
        card_after = parse_card(c1["path"])
        sc.check(card_after["efs"] == card_before["efs"] and
                 card_after["keys"] == card_before["keys"],
                 f"window: the card's keys and certificates unchanged after a wrong {kind} PIN")
    renew(sc, p1, at("2030-02-21"))
    check_revocation_services(sc, [p1, p2, p4, p6, w], at("2030-02-21"),
                              ocsp_serials=[c.serial for c in p1.certs.values()])
    # Month end: expiry 5/31 opens 3/1; the signing PIN given in lower case.
    not_yet(p3, "2030-02-28")
    renew(sc, p3, at("2030-03-01"), pins=st.pins("pins-lower.json", {**PINS, "sign": "abc123"}))
    not_yet(p5, "2030-09-30")
    # After expiry, the card still valid: fresh (the expired ones stay expired).
    renew(sc, p5, at("2031-01-15"), expect_fresh=True)
    # The minor's card ended on 2030-06-01: no renewal; reconcile marks it
    # expired; a new card can then be issued (now an adult: 10 years).
    end = at("2031-01-15")
    sc.refused("minor: renewal on an expired card", "cert", "renew", "--resident", p6.id,
               "--card", p6.active_card()[1]["path"], "--pins", pins, now=end,
               words=("expired",))
    rep = sc.reconcile(end)
    sc.check(rep.get("expired_cards") == 1 and rep.get("completed") == 0 and
             rep.get("rolled_back") == 0, "reconcile marks the one card past its expiry "
             "(2030-06-01) expired", rep)
    p6.cards[p6.active_card()[0]]["state"] = "expired"
    verify_person(sc, p6, end, " after the card expired")
    nothing_left(sc, "after the expiry", end)
    issue(sc, p6, now=end)
    for p in (p1, p2, p3, p4, p5):
        verify_person(sc, p, at("2031-01-15"), " at the end")
    check_revocation_services(sc, [p3, p5], at("2031-01-15"),
                              ocsp_serials=[c.serial for c in p3.certs.values()
                                            if c.kind == "auth"])
    sc.audit_ok(at("2031-01-15"))


# ---------------------------------------------------------------- 3./4. events

def sc_events(sc):
    st = sc.st
    mover = Person(sc, "move", "1990-05-20")
    renamer = Person(sc, "rename", "1988-06-15")
    corrected = Person(sc, "correct", "1979-07-31")
    dead = Person(sc, "decease", "1990-05-10")
    gone = Person(sc, "remove", "1992-08-01")
    returned = Person(sc, "return", "1975-09-30")
    lost = Person(sc, "lost", "1983-10-05")
    minor = Person(sc, "minor-move", "2012-03-15")
    nocard = Person(sc, "no-card", "1990-05-22")
    people = [mover, renamer, corrected, dead, gone, returned, lost, minor, nocard]
    for p in people[:-1]:
        issue(sc, p)
    d = jst_day(NOW)

    def event(p, label, args, reason, kinds):
        r = sc.ok(f"{p.label}: {label}", "resident", *args, "--json")
        j = r.json()
        expect = {c.serial: reason for c in p.good(d) if c.kind in kinds}
        got = {x["serial"].lower(): x["reason"] for x in j["revoked"]}
        sc.check(got == expect, f"{p.label}: {label} revokes "
                 + (", ".join(sorted(kinds)) if expect else "nothing")
                 + f" ({reason})", f"got {got}, want {expect}")
        for c in p.good(d):
            if c.kind in kinds:
                p.revoke(c, reason, NOW)

    mover.address = "東京都豊島区東池袋2丁目2番2号"
    event(mover, "move", ["move", mover.id, "--address", mover.address, "--postal-code",
                          "170-0013"], "affiliationChanged", {"sign"})
    # Nothing left to revoke: a rename after the move revokes nothing.
    mover.name, mover.kana = "佐藤 一朗", "サトウ イチロウ"
    event(mover, "rename after the move", ["rename", mover.id, "--name", mover.name,
                                           "--kana", mover.kana], "affiliationChanged",
          {"sign"})
    renamer.name, renamer.kana = "山本 花子", "ヤマモト ハナコ"
    event(renamer, "rename", ["rename", renamer.id, "--name", renamer.name, "--kana",
                              renamer.kana], "affiliationChanged", {"sign"})
    corrected.birth = day("1979-08-01")
    event(corrected, "correct --birth", ["correct", corrected.id, "--birth", "1979-08-01"],
          "affiliationChanged", {"sign"})
    minor.address = "東京都豊島区目白3丁目3番3号"
    event(minor, "move (no signing certificate)", ["move", minor.id, "--address",
                                                  minor.address], "affiliationChanged",
          {"sign"})
    event(dead, "decease", ["decease", dead.id, "--on", "2026-02-20"],
          "cessationOfOperation", {"sign", "auth"})
    dead.status, dead.status_on = "deceased", day("2026-02-20")
    dead.cards[next(iter(dead.cards))]["state"] = "abolished"
    event(gone, "remove", ["remove", gone.id, "--on", "2026-02-21"],
          "cessationOfOperation", {"sign", "auth"})
    gone.status, gone.status_on = "removed", day("2026-02-21")
    gone.cards[next(iter(gone.cards))]["state"] = "abolished"
    # Every further event on them is refused, and changes nothing.
    pins = st.pins("pins.json", PINS)
    for p in (dead, gone):
        card = p.cards[next(iter(p.cards))]["path"]
        before = st.dump()
        for label, args in (
                ("move", ["resident", "move", p.id, "--address", "東京都豊島区池袋1丁目1番1号"]),
                ("rename", ["resident", "rename", p.id, "--name", "山田 太郎", "--kana",
                            "ヤマダ タロウ"]),
                ("correct", ["resident", "correct", p.id, "--sex", "3"]),
                ("decease", ["resident", "decease", p.id, "--on", "2026-02-21"]),
                ("remove", ["resident", "remove", p.id, "--on", "2026-02-21"]),
                ("card issue", ["card", "issue", "--resident", p.id, "--card",
                                st.dir / f"{p.label}-again.card", "--pins", pins]),
                ("cert renew", ["cert", "renew", "--resident", p.id, "--card", card,
                                "--pins", pins, "--early"])):
            sc.refused(f"{p.label}d resident: {label}", *args)
        sc.check(st.dump() == before, f"{p.label}: the refusals left the store unchanged")
        sc.check(not (st.dir / f"{p.label}-again.card").exists(),
                 f"{p.label}: no card file made by the refused issue")

    # Card returned: both certificates cessationOfOperation; lost: keyCompromise.
    for p, cmd, state, reason in ((returned, "return", "returned", "cessationOfOperation"),
                                  (lost, "lost", "lost", "keyCompromise")):
        r = sc.ok(f"{p.label}: card {cmd}", "card", cmd, "--resident", p.id, "--json")
        got = {x["serial"].lower(): x["reason"] for x in r.json()["revoked"]}
        want = {c.serial: reason for c in p.good(d)}
        sc.check(got == want, f"{p.label}: card {cmd} revokes both ({reason})",
                 f"got {got}, want {want}")
        for c in p.good(d):
            p.revoke(c, reason, NOW)
        p.cards[next(iter(p.cards))]["state"] = state
        verify_person(sc, p)
        sc.refused(f"{p.label}: cert renew with no active card", "cert", "renew",
                   "--resident", p.id, "--card", p.cards[next(iter(p.cards))]["path"],
                   "--pins", pins, "--early")
    # After the return a new card can be issued.
    issue(sc, returned, now="2026-02-21T11:00:00+09:00")
    for p in people:
        verify_person(sc, p)
    # Another resident's card: refused before any PIN is tried.
    other_card = renamer.active_card()[1]["path"]
    before_card = Path(other_card).read_bytes()
    sc.refused("correct: cert renew with another resident's card", "cert", "renew",
               "--resident", corrected.id, "--card", other_card, "--pins", pins, "--early",
               words=("card",))
    sc.check(Path(other_card).read_bytes() == before_card,
             "the other resident's card is untouched (no PIN try spent)")

    # 4. Voluntary revocation.
    later = "2026-02-21T12:00:00+09:00"
    auth = returned.good(d, "auth")[0]
    r = sc.ok("return: cert revoke of the new auth certificate", "cert", "revoke",
              "--serial", auth.serial, "--reason", "cessationOfOperation", "--json", now=later)
    returned.revoke(auth, "cessationOfOperation", later)
    sc.check(r.json().get("serial", "").lower() == auth.serial, "cert revoke names the serial",
             r.out)
    before = st.dump()
    sc.refused("return: revoking it again", "cert", "revoke", "--serial", auth.serial,
               "--reason", "keyCompromise", now=later, words=("revoked",))
    sc.check(st.dump() == before, "the store is unchanged after revoking again")
    r = st.jpki("cert", "revoke", "--serial", "7fffffffffffffffffffffffffffff01", "--reason",
                "cessationOfOperation", now=later)
    sc.check(r.rc == 2, "cert revoke of an unknown serial: exit 2", r)
    sc.check(st.dump() == before, "the store is unchanged after the unknown serial")
    # The signing certificate is left alone (voluntary: either).
    verify_person(sc, returned, later, " after the voluntary revocation")
    check_card(sc, returned, returned.active_card()[1]["path"], later)

    # Renewals after the events: the new signing certificates carry the new
    # address and name (check_card reads them); after a voluntary revocation
    # of the auth certificate only the signing one is superseded.
    renew(sc, mover, "2026-02-21T13:00:00+09:00", early=True)
    renew(sc, renamer, "2026-02-21T13:00:00+09:00", early=True)
    renew(sc, returned, "2026-02-21T13:00:00+09:00", early=True)
    later = "2026-02-21T13:00:00+09:00"

    # Everything in the CRLs and OCSP.
    sample = [mover.good(d, "auth")[0].serial]
    for p in (mover, renamer, dead, lost):
        sample += [c.serial for c in p.certs.values() if c.reason][:2]
    sample += [auth.serial, returned.good(d, "sign")[0].serial,
               [c.serial for c in returned.certs.values() if c.reason == "superseded"][0],
               "7fffffffffffffffffffffffffffff01"]
    check_revocation_services(sc, people, later, ocsp_serials=sample)
    check_expiring(sc, people, ["2030-05", "2030-06", "2030-07", "2030-08", "2030-09",
                                "2030-10", "2030-03", "2035-05", "2035-08", "2035-09",
                                "2035-10", "2031-03"], now=later)
    sc.audit_ok(later)


# ---------------------------------------------------------------- 5. crashes

def settled(sc, rep, what):
    n = (rep.get("completed", 0), rep.get("rolled_back", 0), rep.get("busy", 0),
         rep.get("failed", 0))
    sc.check(n[0] + n[1] == 1 and n[2] == 0 and n[3] == 0,
             f"{what}: reconcile settles the one open operation", rep)
    out = "completed" if n[0] == 1 else "rolled_back" if n[1] == 1 else None
    say(f"  info  [{sc.name}] {what}: reconcile {out}")
    return out


def nothing_left(sc, what, now=NOW):
    rep = sc.reconcile(now)
    sc.check(all(rep.get(k) == 0 for k in ("completed", "rolled_back", "busy", "failed",
                                            "expired_cards")),
             f"{what}: a second reconcile has nothing to do", rep)


def sc_crash_issue(sc):
    st = sc.st
    p = Person(sc, "crash-issue", "1990-05-20")
    pins = st.pins("pins.json", PINS)
    d = jst_day(NOW)
    for fp in ("issue.after-intent", "issue.after-create", "issue.after-keygen",
               "issue.after-commit", "write.after-auth", "write.after-sign"):
        serial, _ = p.active_card()
        if serial:
            r = sc.ok(f"{fp}: card return before the next issue", "card", "return",
                      "--resident", p.id)
            for c in p.good(d):
                p.revoke(c, "cessationOfOperation", NOW)
            p.cards[serial]["state"] = "returned"
        path = st.dir / f"card-{fp}.card"
        before = st.dump()
        r = st.jpki("card", "issue", "--resident", p.id, "--card", path, "--pins", pins,
                    "--json", env={"JPKI_FAILPOINT": fp})
        sc.check(r.rc == -9, f"{fp}: card issue killed at the failpoint", r)
        outcome = settled(sc, sc.reconcile(), fp)
        if outcome == "rolled_back":
            sc.check(not path.exists(), f"{fp}: rolled back: no card file")
            sc.check(not [f for f in st.dir.iterdir() if f.name.startswith(path.name)],
                     f"{fp}: rolled back: no temporary card file left",
                     [f.name for f in st.dir.iterdir() if f.name.startswith(path.name)])
            after = st.dump()
            touched = changed_tables(before, after) & {"card", "holder_cert", "certificate",
                                                       "revocation", "resident"}
            sc.check(not touched, f"{fp}: rolled back: no card, certificate, revocation or "
                     "resident row changed", sorted(touched))
            verify_person(sc, p, NOW, f" after {fp}")
        elif outcome == "completed":
            r = st.jpki("resident", "show", p.id, "--json")
            cards = [c for c in r.json()["cards"] if c["state"] == "active"]
            sc.require(len(cards) == 1, f"{fp}: completed: one active card", r)
            cert_rows = [c for c in r.json()["certificates"] if c["status"] == "good"]
            card_exp = card_expiry(p.birth, d)
            auth_exp = cert_expiry(p.birth, d, 5, card_exp)
            sc.check(cards[0]["expires"] == str(card_exp) and
                     sorted((c["kind"], c["expires"]) for c in cert_rows)
                     == [("auth", str(auth_exp)), ("sign", str(auth_exp))],
                     f"{fp}: completed: card to {card_exp}, auth and sign to {auth_exp}",
                     r.out)
            p.cards[cards[0]["serial"]] = {"expires": card_exp, "state": "active",
                                           "path": path}
            for c in cert_rows:
                p.certs[c["serial"].lower()] = Cert(c["serial"], c["kind"], d,
                                                    day(c["expires"]), cards[0]["serial"])
            verify_person(sc, p, NOW, f" after {fp}")
            check_card(sc, p, path, NOW, f" after {fp}")
        nothing_left(sc, fp)
        sc.audit_ok()
    # Operations after reconcile still work: a renewal of the completed card.
    renew(sc, p, "2026-03-01T10:00:00+09:00", early=True)
    sc.audit_ok("2026-03-01T10:00:00+09:00")


def sc_crash_renew(sc):
    st = sc.st
    p = Person(sc, "crash-renew", "1985-07-10")
    issue(sc, p)
    pins = st.pins("pins.json", PINS)
    now = "2026-03-01T10:00:00+09:00"
    d = jst_day(now)
    _, card = p.active_card()
    path = card["path"]
    for fp in ("renew.after-intent", "renew.after-verify", "renew.after-keygen-auth",
               "renew.after-keygen", "renew.after-commit", "write.after-auth",
               "write.after-sign"):
        before = st.dump()
        before_list = cert_snapshot(sc, p, now)
        card_before = parse_card(path)
        old = p.good(d)
        r = st.jpki("cert", "renew", "--resident", p.id, "--card", path, "--pins", pins,
                    "--early", "--json", now=now, env={"JPKI_FAILPOINT": fp})
        sc.check(r.rc == -9, f"{fp}: cert renew killed at the failpoint", r)
        outcome = settled(sc, sc.reconcile(now), fp)
        if outcome == "rolled_back":
            sc.check(cert_snapshot(sc, p, now) == before_list,
                     f"{fp}: rolled back: the certificates as before")
            after = st.dump()
            touched = changed_tables(before, after) & {"card", "holder_cert", "certificate",
                                                       "revocation", "resident"}
            sc.check(not touched, f"{fp}: rolled back: no card, certificate, revocation or "
                     "resident row changed", sorted(touched))
            card_after = parse_card(path)
            sc.check(card_after["efs"] == card_before["efs"] and
                     card_after["keys"] == card_before["keys"],
                     f"{fp}: rolled back: the card's keys and certificates as before")
            verify_person(sc, p, now, f" after {fp}")
            check_card(sc, p, path, now, f" after {fp}")
        elif outcome == "completed":
            r = st.jpki("cert", "list", "--resident", p.id, "--json", now=now)
            rows = {c["serial"].lower(): c for c in r.json()}
            for c in old:
                row = rows.get(c.serial, {})
                sc.check(row.get("status") == "revoked" and row.get("reason") == "superseded",
                         f"{fp}: completed: the old {c.kind} certificate is superseded", row)
                p.revoke(c, "superseded", now)
            exp = cert_expiry(p.birth, d, 5, card["expires"])
            new = [c for s, c in rows.items() if c["status"] == "good"]
            sc.check(sorted((c["kind"], c["expires"], c["issued"]) for c in new) ==
                     [("auth", str(exp), str(d)), ("sign", str(exp), str(d))],
                     f"{fp}: completed: new auth and sign certificates to {exp} (5th "
                     "birthday, --early)", new)
            for c in new:
                p.certs[c["serial"].lower()] = Cert(c["serial"], c["kind"], d,
                                                    day(c["expires"]), p.active_card()[0])
            verify_person(sc, p, now, f" after {fp}")
            check_card(sc, p, path, now, f" after {fp}")
        nothing_left(sc, fp, now)
        sc.audit_ok(now)
    # A renewal after all that still works.
    renew(sc, p, "2026-03-02T10:00:00+09:00", early=True)
    check_revocation_services(sc, [p], "2026-03-02T10:00:00+09:00")
    sc.audit_ok("2026-03-02T10:00:00+09:00")


def sc_crash_mixed(sc):
    """Crashes met by a lock, a second operation and an event before reconcile."""
    st = sc.st
    pins = st.pins("pins.json", PINS)
    now = "2026-03-01T10:00:00+09:00"
    # While a crashed renewal is open: another renewal is refused; a reconcile
    # that finds the card locked (a live operation) leaves it alone (busy, exit 1).
    a = Person(sc, "open-intent", "1982-11-30")
    issue(sc, a)
    path = a.active_card()[1]["path"]
    r = st.jpki("cert", "renew", "--resident", a.id, "--card", path, "--pins", pins,
                "--early", now=now, env={"JPKI_FAILPOINT": "renew.after-keygen"})
    sc.check(r.rc == -9, "open-intent: renewal killed after keygen", r)
    before = st.dump()
    sc.refused("open-intent: a second renewal while the crashed one is open", "cert", "renew",
               "--resident", a.id, "--card", path, "--pins", pins, "--early", now=now,
               words=("reconcile",))
    sc.check(changed_tables(before, st.dump()) <= {"intent"},
             "open-intent: the refused renewal changed nothing",
             changed_tables(before, st.dump()))
    with card_locked(path):
        r = st.jpki("reconcile", "--json", now=now)
        sc.check(r.rc == 1 and r.out and r.json().get("busy") == 1 and
                 r.json().get("completed") == 0 and r.json().get("rolled_back") == 0,
                 "open-intent: reconcile while the card is locked: busy 1, exit 1", r)
        sc.refused("open-intent: a renewal while the card is locked", "cert", "renew",
                   "--resident", a.id, "--card", path, "--pins", pins, "--early", now=now,
                   words=("in use",))
    settled(sc, sc.reconcile(now), "open-intent: after the lock is released")
    invariants(sc, a.id, "open-intent", now)
    nothing_left(sc, "open-intent", now)

    # An event between a crash (the card's keys already changed) and reconcile:
    # reconcile must not issue certificates to a deceased resident or onto a
    # lost or returned card.
    for label, fp, event in (
            ("crash-decease", "renew.after-keygen",
             lambda p: ["resident", "decease", p.id, "--on", "2026-03-01"]),
            ("crash-remove", "renew.after-keygen-auth",
             lambda p: ["resident", "remove", p.id, "--on", "2026-03-01"]),
            ("crash-lost", "renew.after-keygen-auth",
             lambda p: ["card", "lost", "--resident", p.id]),
            ("crash-return", "renew.after-keygen",
             lambda p: ["card", "return", "--resident", p.id]),
            ("crash-move", "renew.after-keygen",
             lambda p: ["resident", "move", p.id, "--address", "東京都豊島区目白5丁目5番5号"])):
        q = Person(sc, label, "1987-04-04")
        issue(sc, q)
        path = q.active_card()[1]["path"]
        r = st.jpki("cert", "renew", "--resident", q.id, "--card", path, "--pins", pins,
                    "--early", now=now, env={"JPKI_FAILPOINT": fp})
        sc.check(r.rc == -9, f"{label}: renewal killed at {fp}", r)
        r = st.jpki(*event(q), now=now)
        lines = r.err.strip().splitlines()
        sc.check(r.rc == 0 or (r.rc == 1 and len(lines) == 1 and " / " in lines[0]),
                 f"{label}: the event after the crash runs, or is refused in one "
                 "bilingual line", r)
        say(f"  info  [{sc.name}] {label}: the event exited {r.rc}: {r.err.strip()[:120]}")
        rep = sc.reconcile(now)
        sc.check(rep.get("failed") == 0 and rep.get("busy") == 0,
                 f"{label}: reconcile settles it", rep)
        invariants(sc, q.id, f"{label} after reconcile", now)
        if r.rc == 1:
            sc.ok(f"{label}: the event after reconcile", *event(q), now=now)
            invariants(sc, q.id, f"{label} after the event", now)
        nothing_left(sc, label, now)

    # A card file destroyed mid-operation: reconcile cannot settle it (exit 3,
    # naming the way out); reconcile --abandon gives it up. Afterwards no good
    # certificate may remain for a card that no longer exists, and the
    # resident can get a new card.
    for label, op, fp in (("abandon-issue", "issue", "issue.after-commit"),
                          ("abandon-renew", "renew", "renew.after-keygen"),
                          ("abandon-renew-committed", "renew", "renew.after-commit")):
        q = Person(sc, label, "1979-09-09")
        path = st.dir / f"{label}.card"
        if op == "renew":
            issue(sc, q, path=path)
            args = ["cert", "renew", "--resident", q.id, "--card", path, "--pins", pins,
                    "--early"]
        else:
            args = ["card", "issue", "--resident", q.id, "--card", path, "--pins", pins]
        r = st.jpki(*args, now=now, env={"JPKI_FAILPOINT": fp})
        sc.check(r.rc == -9, f"{label}: killed at {fp}", r)
        path.unlink()
        r = st.jpki("reconcile", "--json", now=now)
        m = re.search(r"--abandon (\d+)", r.err)
        sc.check(r.rc == 3 and r.json().get("failed") == 1 and m is not None,
                 f"{label}: reconcile without the card file: failed 1, exit 3, naming "
                 "reconcile --abandon", r)
        if m is None:
            continue
        r = st.jpki("reconcile", "--abandon", m.group(1), "--json", now=now)
        sc.check(r.rc == 0, f"{label}: reconcile --abandon {m.group(1)}", r)
        nothing_left(sc, f"{label} after --abandon", now)
        invariants(sc, q.id, f"{label} after --abandon", now)
        if op == "issue":
            r = st.jpki("card", "issue", "--resident", q.id, "--card",
                        st.dir / f"{label}-new.card", "--pins", pins, now=now)
            sc.check(r.rc == 0, f"{label}: a new card can be issued after --abandon", r)

    # An adult ward renewing without the ward present loses the signing
    # certificate; a crash after the new auth key must not leave the old
    # signing certificate on the card.
    w = Person(sc, "crash-ward", "1958-06-30", ward=True)
    issue(sc, w, ward_present=True)
    path = w.active_card()[1]["path"]
    r = st.jpki("cert", "renew", "--resident", w.id, "--card", path, "--pins", pins,
                "--early", now=now, env={"JPKI_FAILPOINT": "renew.after-keygen-auth"})
    sc.check(r.rc == -9, "crash-ward: renewal killed at renew.after-keygen-auth", r)
    settled(sc, sc.reconcile(now), "crash-ward")
    invariants(sc, w.id, "crash-ward after reconcile", now)
    nothing_left(sc, "crash-ward", now)
    # A minor turning 15, crashed after the auth key: consistent either way.
    m = Person(sc, "crash-minor", "2011-05-05")
    issue(sc, m)
    path = m.active_card()[1]["path"]
    r = st.jpki("cert", "renew", "--resident", m.id, "--card", path, "--pins", pins,
                "--early", now="2026-06-01T10:00:00+09:00",
                env={"JPKI_FAILPOINT": "renew.after-keygen-auth"})
    sc.check(r.rc == -9, "crash-minor: renewal killed at renew.after-keygen-auth", r)
    settled(sc, sc.reconcile("2026-06-01T10:00:00+09:00"), "crash-minor")
    invariants(sc, m.id, "crash-minor after reconcile", "2026-06-01T10:00:00+09:00")
    nothing_left(sc, "crash-minor", "2026-06-01T10:00:00+09:00")
    sc.audit_ok("2026-06-01T10:00:00+09:00")


# ---------------------------------------------------------------- 6. concurrency

def sc_concurrent(sc):
    st = sc.st
    p = Person(sc, "racer", "1990-05-20")
    issue(sc, p)
    pins = st.pins("pins.json", PINS)
    now = "2026-03-01T10:00:00+09:00"
    d = jst_day(now)
    _, card = p.active_card()
    old = p.good(d)
    procs = []
    for _ in range(2):
        procs.append(st.popen("cert", "renew", "--resident", p.id, "--card", card["path"],
                              "--pins", pins, "--early", "--json", now=now))
    res = []
    for proc, cmd in procs:
        out, err = proc.communicate(timeout=180)
        res.append((proc.returncode, out.decode(), err.decode("utf-8", "replace")))
    rcs = sorted(r[0] for r in res)
    sc.check(rcs == [0, 1], "two concurrent renewals: exactly one exits 0, the other 1",
             res)
    loser = [r for r in res if r[0] == 1]
    if loser:
        err = loser[0][2].strip()
        sc.check(len(err.splitlines()) == 1 and " / " in err and
                 any(w in err for w in ("in use", "in progress")),
                 "the loser says the card is in use (or the operation in progress), in "
                 "one bilingual line", err)
    winner = [r for r in res if r[0] == 0]
    if winner:
        j = json.loads(winner[0][1])
        for c in old:
            p.revoke(c, "superseded", now)
        for x in j["certificates"]:
            p.certs[x["serial"].lower()] = Cert(x["serial"], x["kind"], d, day(x["expires"]),
                                                p.active_card()[0])
        verify_person(sc, p, now, " after the race", with_list=False)
        check_card(sc, p, card["path"], now, " after the race")
    nothing_left(sc, "after the race", now)

    # Two card issues for one resident at once: one card.
    q = Person(sc, "double-issue", "1991-01-01")
    paths = [st.dir / "double-a.card", st.dir / "double-b.card"]
    procs = [st.popen("card", "issue", "--resident", q.id, "--card", path, "--pins", pins,
                      "--json", now=now)[0] for path in paths]
    res = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        res.append((proc.returncode, out.decode(), err.decode("utf-8", "replace")))
    sc.check(sorted(r[0] for r in res) == [0, 1],
             "two concurrent card issues: exactly one exits 0, the other 1", res)
    files = [p_ for p_ in paths if p_.exists()]
    sc.check(len(files) == 1, "one card file exists", files)
    invariants(sc, q.id, "double-issue", now)
    r = st.jpki("resident", "show", q.id, "--json", now=now)
    sc.check(r.rc == 0 and len(r.json()["cards"]) == 1, "double-issue: one card row", r)
    nothing_left(sc, "after the double issue", now)

    # A renewal racing a resident event. Two moments:
    #  "intent": the event lands while the renewal is between its intent
    #    record and its certificates (the test polls for the intent row);
    #  "paused": the event lands after the renewal read the resident and
    #    before it wrote its intent: the test swaps the keys directory's
    #    card-issuer-CODE.key.pem (docs/internals/pki.md), which the renewal
    #    reads at that point and the events never read, for a FIFO, and feeds
    #    it the key once the event is done.
    # Whatever the order, the rules must hold afterwards: no good certificate
    # for a deceased resident or on a lost card, and a good signing
    # certificate carries the resident's current data.
    events = {
        "move": lambda p: ["resident", "move", p.id, "--address", "東京都豊島区東池袋9丁目9番9号"],
        "rename": lambda p: ["resident", "rename", p.id, "--name", "新井 次郎", "--kana",
                             "アライ ジロウ"],
        "decease": lambda p: ["resident", "decease", p.id, "--on", "2026-03-01"],
        "lost": lambda p: ["card", "lost", "--resident", p.id],
    }
    for moment, name in (("intent", "move"), ("intent", "lost"), ("paused", "move"),
                         ("paused", "rename"), ("paused", "decease"), ("paused", "lost")):
        label = f"race-{moment}-{name}"
        r_ = Person(sc, label, "1984-12-12")
        issue(sc, r_)
        path = r_.active_card()[1]["path"]
        key = Path(st.keys) / f"card-issuer-{MUNI}.key.pem"
        real, fd, data = key.with_name(key.name + ".real"), None, None
        if moment == "paused":
            data = key.read_bytes()
            os.rename(key, real)
            os.mkfifo(key, 0o600)
        try:
            proc, _ = st.popen("cert", "renew", "--resident", r_.id, "--card", path, "--pins",
                               pins, "--early", "--json", now=now)
            t0, seen = time.monotonic(), False
            while time.monotonic() - t0 < 60 and proc.poll() is None and not seen:
                if moment == "intent":
                    seen = bool(st.query("SELECT count(*) FROM intent WHERE resident = "
                                         f"{int(r_.id)} AND state = 'started'"))
                else:
                    try:
                        fd = os.open(key, os.O_WRONLY | os.O_NONBLOCK)
                        seen = True
                    except OSError:
                        pass
                if not seen:
                    time.sleep(0.003)
            if moment == "paused":
                sc.check(seen, f"{label}: (instrumentation) the renewal reads the card issuer "
                         "key after the resident, and waits on the FIFO")
            try:
                ev = st.jpki(*events[name](r_), now=now, timeout=60)
            except subprocess.TimeoutExpired as e:
                ev = None
                sc.check(False, f"{label}: the event does not wait on the card issuer key", e)
            overlapped = seen and proc.poll() is None
        finally:
            if moment == "paused":
                os.replace(real, key)
                if fd is not None:
                    os.set_blocking(fd, True)
                    os.write(fd, data)
                    os.close(fd)
        out, err = proc.communicate(timeout=180)
        say(f"  info  [{sc.name}] {label}: renewal exit {proc.returncode}, event exit "
            f"{ev.rc if ev else None}, {'overlapped' if overlapped else 'did not overlap'}")
        sc.check(ev is not None and ev.rc in (0, 1) and proc.returncode in (0, 1),
                 f"{label}: both finish (exit 0 or 1)", (ev, proc.returncode, err))
        rep = sc.reconcile(now)
        sc.check(rep.get("failed") == 0 and rep.get("busy") == 0, f"{label}: reconcile", rep)
        invariants(sc, r_.id, f"{label} afterwards", now)
    sc.audit_ok(now)


# ---------------------------------------------------------------- 7. bad input

def sc_bad_input(sc):
    st = sc.st
    p = Person(sc, "holder", "1990-05-20")
    issue(sc, p)
    z = Person(sc, "cardless", "1988-01-01")
    path = p.active_card()[1]["path"]
    pins = st.pins("pins.json", PINS)
    missing = st.dir / "no-such-pins.json"
    broken = st.file("broken.json", "{\"sign\": \"ABC123\", \"auth\": ")
    bad_auth = st.pins("bad-auth.json", {**PINS, "auth": "12a4"})
    bad_sign = st.pins("bad-sign.json", {**PINS, "sign": "ABCDEF"})
    nosign = st.pins("pins-nosign.json", PINS_NOSIGN)
    add = ["resident", "add", "--name", "山田 太郎", "--kana", "ヤマダ タロウ", "--sex", "1",
           "--address", ADDR, "--municipality", MUNI]
    new_card = st.dir / "new.card"
    cases = [
        ("unknown resident: show", ["resident", "show", "999999"]),
        ("unknown resident: cert list", ["cert", "list", "--resident", "999999"]),
        ("unknown resident: card issue", ["card", "issue", "--resident", "999999", "--card",
                                          new_card, "--pins", pins]),
        ("unknown resident: cert renew", ["cert", "renew", "--resident", "999999", "--card",
                                          path, "--pins", pins, "--early"]),
        ("unknown resident: move", ["resident", "move", "999999", "--address", ADDR]),
        ("unknown resident: decease", ["resident", "decease", "999999", "--on", "2026-02-20"]),
        ("unknown resident: card return", ["card", "return", "--resident", "999999"]),
        ("not an id", ["resident", "show", "abc"]),
        ("birth 2026-02-30", add + ["--birth", "2026-02-30"]),
        ("birth 1867-12-31 (out of range)", add + ["--birth", "1867-12-31"]),
        ("birth 2026-2-1", add + ["--birth", "2026-2-1"]),
        ("stay end 2026-13-01", add + ["--birth", "1990-01-01", "--stay-expires",
                                       "2026-13-01"]),
        ("birth in the future", add + ["--birth", "2026-02-22"]),
        ("period of stay already ended", add + ["--birth", "1990-01-01", "--stay-expires",
                                                "2026-02-20", "--nationality", "VN"]),
        ("decease --on 2026-02-30", ["resident", "decease", p.id, "--on", "2026-02-30"]),
        ("decease --on a future day", ["resident", "decease", p.id, "--on", "2026-02-22"]),
        ("decease --on a day before birth", ["resident", "decease", p.id, "--on",
                                             "1990-05-19"]),
        ("move to a municipality not in the store", ["resident", "move", p.id, "--address",
                                                     ADDR, "--municipality", "999999"]),
        ("correct with nothing to correct", ["resident", "correct", p.id]),
        ("correct --birth 2025-02-29", ["resident", "correct", p.id, "--birth", "2025-02-29"]),
        ("--sex 4", [*add[:7], "4", *add[8:], "--birth", "1990-01-01"]),
        ("--sex x", [*add[:7], "x", *add[8:], "--birth", "1990-01-01"]),
        ("correct --sex 0", ["resident", "correct", p.id, "--sex", "0"]),
        ("kana in hiragana", ["resident", "add", "--name", "山田 太郎", "--kana", "やまだ たろう",
                              "--sex", "1", "--address", ADDR, "--municipality", MUNI,
                              "--birth", "1990-01-01"]),
        ("kana in half-width katakana", ["resident", "add", "--name", "山田 太郎", "--kana",
                                         "ﾔﾏﾀﾞ ﾀﾛｳ", "--sex", "1", "--address", ADDR,
                                         "--municipality", MUNI, "--birth", "1990-01-01"]),
        ("rename with hiragana kana", ["resident", "rename", p.id, "--name", "山田 太郎",
                                       "--kana", "やまだ たろう"]),
        ("postal code 1700001", add + ["--birth", "1990-01-01", "--postal-code", "1700001"]),
        ("postal code 170-001", add + ["--birth", "1990-01-01", "--postal-code", "170-001"]),
        ("postal code in full-width digits", add + ["--birth", "1990-01-01", "--postal-code",
                                                    "１７０-０００１"]),
        ("move with postal code 17O-0001", ["resident", "move", p.id, "--address", ADDR,
                                            "--postal-code", "17O-0001"]),
        ("municipality of 5 digits", [*add[:11], "13116", "--birth", "1990-01-01"]),
        ("name of 101 characters", ["resident", "add", "--name", "山" * 101, "--kana",
                                    "ヤマ", "--sex", "1", "--address", ADDR,
                                    "--municipality", MUNI, "--birth", "1990-01-01"]),
        ("PINs file missing: card issue", ["card", "issue", "--resident", z.id, "--card",
                                           new_card, "--pins", missing]),
        ("PINs file invalid JSON: card issue", ["card", "issue", "--resident", z.id,
                                                "--card", new_card, "--pins", broken]),
        ("auth PIN 12a4: card issue", ["card", "issue", "--resident", z.id, "--card",
                                       new_card, "--pins", bad_auth]),
        ("sign PIN without a digit: card issue", ["card", "issue", "--resident", z.id,
                                                  "--card", new_card, "--pins", bad_sign]),
        ("no sign PIN for an adult: card issue", ["card", "issue", "--resident", z.id,
                                                  "--card", new_card, "--pins", nosign]),
        ("card file in a missing directory", ["card", "issue", "--resident", z.id, "--card",
                                              st.dir / "nodir" / "c.card", "--pins", pins]),
        ("PINs file missing: cert renew", ["cert", "renew", "--resident", p.id, "--card",
                                           path, "--pins", missing, "--early"]),
        ("PINs file invalid JSON: cert renew", ["cert", "renew", "--resident", p.id,
                                                "--card", path, "--pins", broken, "--early"]),
        ("auth PIN 12a4: cert renew", ["cert", "renew", "--resident", p.id, "--card", path,
                                       "--pins", bad_auth, "--early"]),
        ("sign PIN without a digit: cert renew", ["cert", "renew", "--resident", p.id,
                                                  "--card", path, "--pins", bad_sign,
                                                  "--early"]),
        ("card file missing: cert renew", ["cert", "renew", "--resident", p.id, "--card",
                                           st.dir / "nothere.card", "--pins", pins,
                                           "--early"]),
        ("cert revoke: unknown serial", ["cert", "revoke", "--serial", "deadbeef",
                                         "--reason", "cessationOfOperation"]),
        ("cert revoke: not hex", ["cert", "revoke", "--serial", "xyz", "--reason",
                                  "cessationOfOperation"]),
        ("cert revoke: unknown reason", ["cert", "revoke", "--serial",
                                         p.good(jst_day(NOW))[0].serial, "--reason",
                                         "certificateHold"]),
        ("resident list --expiring 2030-13", ["resident", "list", "--expiring", "2030-13"]),
        ("resident list --expiring 2030-5", ["resident", "list", "--expiring", "2030-5"]),
    ]
    stores = [
        ("store URL postgresql://nohost.invalid/x",
         ["--store", "postgresql://nohost.invalid/x", "--keys", str(st.keys)]),
        ("store URL foo://x", ["--store", "foo://x", "--keys", str(st.keys)]),
    ]
    card_bytes = Path(path).read_bytes()
    rows = sc.audit_ok()
    before, before_fp = st.dump(), st.fingerprint()
    for label, args in cases + [(f"{l}: resident show", ["resident", "show", p.id])
                                for l, _ in stores] + [
            (f"{l}: resident add", add + ["--birth", "1990-01-01"]) for l, _ in stores]:
        raw = next((s for l, s in stores if label.startswith(l)), None)
        r = st.jpki(*args, raw_store=raw)
        lines = r.err.strip().splitlines()
        sc.check(r.rc == 2 and len(lines) == 1 and r.out == "",
                 f"{label}: exit 2, one line on stderr", r)
        after_fp = st.fingerprint()
        after = before if after_fp == before_fp else st.dump()
        sc.check(after_fp == before_fp and after == before, f"{label}: the store is unchanged",
                 (sorted(set(after) - set(before)) + ["---"]
                  + sorted(set(before) - set(after)))[:8])
        before, before_fp = after, after_fp
    sc.check(Path(path).read_bytes() == card_bytes,
             "the card file is unchanged (no PIN try spent, nothing written)")
    sc.check(not new_card.exists(), "no card file was created by a failed issue")
    sc.check(sc.audit_ok() == rows, "the audit log has as many rows as before", rows)
    # Control: a valid command does change the fingerprint and the dump.
    r = st.jpki(*add, "--birth", "1990-01-01")
    sc.check(r.rc == 0 and st.fingerprint() != before_fp and st.dump() != before,
             "control: a valid resident add changes the store's fingerprint and dump", r)
    verify_person(sc, p, with_list=False)
    verify_person(sc, z, with_list=False)


# ---------------------------------------------------------------- 9. demo seed

def sc_demo(sc, backend):
    st = sc.st
    cards_dir = st.dir / "cards"
    t0 = time.monotonic()
    r = sc.ok("demo seed --residents 200 --seed 7", "demo", "seed", "--residents", "200",
              "--seed", "7", "--cards", cards_dir, "--json")
    say(f"  info  [{sc.name}] demo seed of 200 took {time.monotonic() - t0:.1f} s")
    rep = r.json()
    today = jst_day(NOW)
    sc.check(rep["residents"] == 200, "the report says 200 residents", rep)
    sc.check(120 <= rep["cards"] <= 190, "about 8 in 10 hold a card (120..190 of 200)", rep)
    sc.check(rep["without_sign"] > 0 and rep["revoked"] > 0 and rep["expired"] > 0,
             "some without a signing certificate, some revoked, some expired", rep)
    r = sc.ok("resident list", "resident", "list", "--json")
    residents = r.json()
    sc.check(len(residents) == 200, "resident list has the 200", len(residents))
    ages = [legal_age(day(x["birth"]), today) for x in residents]
    sc.check(min(ages) >= 0 and max(ages) <= 110 and sum(a < 15 for a in ages) >= 10
             and sum(a >= 65 for a in ages) >= 30,
             "ages: 0..110, at least 10 under 15 and 30 over 65 (an age pyramid)",
             (min(ages), max(ages), sum(a < 15 for a in ages), sum(a >= 65 for a in ages)))

    def show(rid):
        return st.jpki("resident", "show", rid, "--json")
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        shows = list(ex.map(show, [x["id"] for x in residents]))
    bad = [s for s in shows if s.rc != 0]
    sc.require(not bad, "resident show for every resident", bad[:1])
    docs = [s.json() for s in shows]
    n_cards = n_certs = n_revoked = n_expired = n_nosign = 0
    problems = {"file": [], "rules": [], "card": [], "san": [], "alt": []}
    sampled = 0
    for doc in docs:
        birth, stay = day(doc["birth"]), day(doc["stay_expires"]) if doc["stay_expires"] \
            else None
        certs = doc["certificates"]
        n_certs += len(certs)
        n_revoked += sum(c["status"] == "revoked" for c in certs)
        n_expired += sum(c["status"] == "expired" for c in certs)
        for c in certs:
            st_should = ("revoked" if c["reason"] else
                         "expired" if day(c["expires"]) < today else "good")
            if c["status"] != st_should:
                problems["rules"].append((doc["id"], "status", c))
        if doc["cards"] and not any(c["kind"] == "sign" for c in certs):
            n_nosign += 1
        for card in doc["cards"]:
            n_cards += 1
            issued, exp = day(card["issued"]), day(card["expires"])
            five = card_expiry(birth, issued, stay) if legal_age(birth, issued) < 18 else None
            options = {min(nth_birthday_after(birth, issued, n), stay or dt.date.max)
                       for n in (5, 10)}
            if exp not in options or (five is not None and exp != five):
                problems["rules"].append((doc["id"], "card expiry", card, str(birth)))
            mine = [c for c in certs if day(c["issued"]) >= issued and
                    day(c["expires"]) <= exp]
            for c in mine:
                ci = day(c["issued"])
                ok = day(c["expires"]) in {cert_expiry(birth, ci, n, exp, stay)
                                           for n in (5, 6)}
                if c["kind"] == "sign" and not sign_eligible(birth, ci, doc["adult_ward"],
                                                             False):
                    ok = False
                if not ok:
                    problems["rules"].append((doc["id"], "certificate", c, str(birth)))
            f = Path(card["file"]) if card["file"] else None
            if f is not None and not f.is_absolute():
                f = st.dir / f
            if f is None or not f.exists():
                problems["file"].append((doc["id"], card["serial"], "no file"))
                continue
            try:
                img = parse_card(f)
            except (OSError, ValueError) as e:
                problems["file"].append((doc["id"], card["serial"], str(e)))
                continue
            on_card = {}
            for der in img["efs"]:
                try:
                    x = x509.load_der_x509_certificate(der)
                except ValueError:
                    continue
                if x.issuer == st.ca("sign").subject:
                    on_card["sign"] = x
                elif x.issuer == st.ca("auth").subject:
                    on_card["auth"] = x
            serials = {format(x.serial_number, "x") for x in on_card.values()}
            store_serials = {c["serial"].lower().lstrip("0") for c in certs}
            good = {c["serial"].lower().lstrip("0") for c in certs if c["status"] == "good"}
            if img["serial"] != card["serial"] or not serials <= store_serials or (
                    card["state"] == "active" and not good <= serials) or (
                    card["state"] != "active" and good & serials):
                problems["card"].append((doc["id"], card["serial"], card["state"],
                                         sorted(serials), sorted(good)))
            sign = on_card.get("sign")
            if sign is not None and format(sign.serial_number, "x") in good:
                f_ = san_fields(sign)
                want_san = expected_san(doc["name"], doc["sex"], birth, doc["address"])
                if {k: f_.get(k) for k in want_san} != want_san:
                    problems["san"].append((doc["id"], {k: f_.get(k) for k in want_san}))
                if not all(f_.get(k, "x").isascii() and f_.get(k, "x").isdigit() and
                           len(f_[k]) == len(f_.get(k - 1) or "") for k in (2, 6)):
                    problems["alt"].append((doc["id"], {k: f_.get(k) for k in (2, 6)}))
            for kind, x in on_card.items():
                key = img["keys"].get(KEY_INDEX[kind])
                if key is None or key != pub_of_cert(x):
                    problems["card"].append((doc["id"], card["serial"], kind, "key"))
            if card["state"] == "active" and sampled < 5:
                sampled += 1
                s = st.jpki("card", "status", "--card", f, "--json")
                got = {c["kind"]: int(c["serial"], 16) for c in s.json()["certs"]} \
                    if s.rc == 0 else None
                sc.check(got == {k: x.serial_number for k, x in on_card.items()},
                         f"card status of {card['serial']} agrees with the file", s)
    sc.check(not problems["file"], "every card has its file, and it parses",
             problems["file"][:3])
    sc.check(not problems["card"], "every card file holds certificates of the store, all "
             "the good ones of an active card, each certifying the card's key",
             problems["card"][:3])
    sc.check(not problems["rules"], "card and certificate expiries, statuses and signing "
             "eligibility follow the rules (DOMAIN §2)", problems["rules"][:3])
    sc.check(not problems["san"], "every good signing certificate carries its holder's "
             "name, sex, birth and address", problems["san"][:3])
    sc.check(not problems["alt"], f"seeded signing certificates: 代替文字の使用位置 are digit "
             f"strings (docs/CLI.md) ({len(problems['alt'])} are not)", problems["alt"][:2])
    sc.check((n_cards, n_certs, n_revoked, n_expired) ==
             (rep["cards"], rep["certificates"], rep["revoked"], rep["expired"]),
             f"the report's counts match the store: {n_cards} cards, {n_certs} "
             f"certificates, {n_revoked} revoked, {n_expired} expired", rep)
    sc.check(n_nosign > 0, f"{n_nosign} card holders without a signing certificate")
    sc.audit_ok()

    def people(store):
        r = store.jpki("resident", "list", "--json")
        return [(x["name"], x["kana"], x["birth"], x["sex"], x["address"],
                 x["nationality"], x["adult_ward"]) for x in r.json()] if r.rc == 0 else None

    # The same seed into another fresh store: the same residents.
    st2 = backend.new_store(f"{sc.name}-again", "history")
    r = st2.jpki("demo", "seed", "--residents", "200", "--seed", "7", "--cards",
                 st2.dir / "cards", "--json")
    sc.check(r.rc == 0, "demo seed again into a fresh store", r)
    if r.rc == 0:
        rep2 = r.json()
        sc.check(people(st2) == people(st),
                 "the same seed gives the same residents (names, births, sex, addresses)")
        sc.check({k: v for k, v in rep2.items() if k != "cards_dir"} ==
                 {k: v for k, v in rep.items() if k != "cards_dir"},
                 "the same seed gives the same counts", (rep, rep2))
    st3 = backend.new_store(f"{sc.name}-other", "history")
    r = st3.jpki("demo", "seed", "--residents", "20", "--seed", "8", "--cards",
                 st3.dir / "cards", "--json")
    if sc.check(r.rc == 0, "demo seed --seed 8 into a third store", r):
        a, b = people(st3), people(st)
        sc.check(a is not None and b is not None and a != b[:20],
                 "another seed gives other residents")


# ---------------------------------------------------------------- main

SCENARIOS = {
    "demo": (sc_demo, "history"),
    "crash-renew": (sc_crash_renew, "plain"),
    "events": (sc_events, "plain"),
    "renew": (sc_renew, "plain"),
    "crash-issue": (sc_crash_issue, "plain"),
    "crash-mixed": (sc_crash_mixed, "plain"),
    "issue": (sc_issue, "plain"),
    "bad-input": (sc_bad_input, "plain"),
    "concurrent": (sc_concurrent, "plain"),
}


def run_scenario(backend, name):
    fn, kind = SCENARIOS[name]
    t0 = time.monotonic()
    try:
        sc = Sc(name, backend.new_store(name, kind))
    except Exception as e:  # noqa: BLE001
        FAILURES.append(f"[{name}] store setup: {e}")
        say(f"  FAIL  [{name}] store setup: {e}")
        return name, 0, time.monotonic() - t0
    try:
        fn(sc, backend) if name == "demo" else fn(sc)
    except Abort as e:
        FAILURES.append(f"[{name}] aborted: {e}")
        say(f"  FAIL  [{name}] aborted: {e}")
    except Exception:  # noqa: BLE001
        tb = traceback.format_exc()
        FAILURES.append(f"[{name}] crashed: {tb}")
        say(f"  FAIL  [{name}] the test itself crashed:\n{tb}")
    dt_ = time.monotonic() - t0
    for key, n in sc.repeats.items():
        if n:
            FAILURES.append(f"[{name}] the '{key}' check failed {n} more time(s) (not repeated)")
            say(f"  FAIL  [{name}] the '{key}' check failed {n} more time(s) (not repeated)")
    say(f"  done  [{name}] {sc.checks} checks, {sc.failed} failed, {dt_:.1f} s")
    return name, sc.checks, dt_


def main():
    global JPKI
    ap = argparse.ArgumentParser()
    ap.add_argument("jpki")
    ap.add_argument("src")
    ap.add_argument("--backend", choices=("sqlite", "postgresql"), required=True)
    ap.add_argument("--only", default="")
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    JPKI = os.path.abspath(a.jpki)
    names = [n for n in SCENARIOS if not a.only or n in a.only.split(",")]
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="jpkireg") as tmp:
        pg = None
        try:
            if a.backend == "postgresql":
                sys.path.insert(0, os.path.join(a.src, "tests", "pg"))
                from pgserver import PgServer  # noqa: PLC0415
                pg = PgServer().__enter__()
                backend = PgBackend(tmp, pg)
            else:
                backend = SqliteBackend(tmp)
            if a.backend == "postgresql":
                os.chmod(tmp, 0o755)
            say(f"registry tests on {a.backend}: {', '.join(names)}")
            backend.template("plain")
            if "demo" in names:
                backend.template("history")
            say(f"  info  server and template stores ready after {time.monotonic() - t0:.1f} s")
            with concurrent.futures.ThreadPoolExecutor(a.jobs) as ex:
                results = list(ex.map(lambda n: run_scenario(backend, n), names))
        finally:
            if pg is not None:
                pg.__exit__(None, None, None)
    total = sum(r[1] for r in results)
    say(f"{total} checks in {time.monotonic() - t0:.1f} s on {a.backend} "
        f"({', '.join(f'{n} {t:.1f}s' for n, _, t in results)})")
    if FAILURES:
        say(f"\n{len(FAILURES)} FAILED:")
        for f in FAILURES:
            say(f"  - {f}")
        return 1
    say("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
