#!/usr/bin/python3
"""The monthly expiry notices (lib/notice, jpki notice ...) end to end.

usage: /usr/bin/python3 test_notice.py JPKI_BINARY SOURCE_DIR [--backend sqlite|postgresql]
       [--only SCENARIO,...] [--jobs N]

Scenarios (each in a store of its own; --jobs, default 2, run at a time):
  select       which residents a month's run picks: certificate expiries on the
               month's first and last day (in) and the days around it (out), a
               run in December for February, a Feb 29 birth, minors whose
               5-year card expires (one notice of kind card, 23-digit
               application ID), one notice for both certificates, deceased,
               removed and renewed residents, a renewal between two runs, a
               dry run against the real run, a catch-up run after some expiries
               (expired_before); --json, the manifest, notice_target
  idempotent   a second run sends nothing (var/notices/YYYY-MM.2 or --out);
               JPKI_FAILPOINT crashes (notice.after-claim, notice.after-rename,
               notice.mid-file, notice.before-done) with --per-file 2, then the
               same command again: every resident once, no gaps, the right
               files and page counts, no *.tmp; two runs started at once
  suspend      suspend/resume and their refusals, status (text and --json), a
               refused run stores and writes nothing, a crashed run meets a
               suspension, the month caught up with --expiring; a suspension
               arriving between two files of a run (JPKI_FAILPOINT
               notice.between-files:stop): the run ends at that file, resume
               finishes it without drawing the file again
  letters      the PDFs: render, fonts embedded, per page the name, the
               renewal window in 和暦, the reservation ID, 照会書兼回答書 on the
               back, the J-LIS page's expiry and application ID, the QR code
               (zbarimg); a run under LeakSanitizer (sanitized builds)
  manifest     manifest.csv (header, quoting, 〒, windows, print order) against
               the store and the model, summary.json (counts, files, sha256),
               a notice cancelled between claim and print
  reservation  verify-reservation: the ID as typed (spaces, hyphens, full-width
               digits), wrong birth date and unknown ID alike (exit 1, one
               message), every single-digit change and adjacent transposition
               (exit 2), wrong lengths; IDs unique and not sequential
  bad-input    exit 2, one line on stderr, the notice tables unchanged

Expected dates are computed here from DOMAIN.md §1-2 (Nth birthday strictly
after the issue day, Feb 29 -> Feb 28, the card's 10 or 5 years, the renewal
window from the day after the date three months before), never taken from
jpki's output; 和暦 and the Damm check digit are implemented here too.

On postgresql each scenario gets a database of its own on one server: the
server of JPKI_TEST_STORE when tests/pg/pgserver.py runs this script (CTest's
notice.pg), else a throw-away server started here (tests/pg/pgserver.py).
`jpki init` runs once per backend into a template (SQLite file and keys
directory, or a PostgreSQL template database) that each scenario clones.
Every check prints one line; the exit status is 1 if any failed.

Sanitized builds (JPKI_SANITIZE): jpki runs with the sanitizers as built
(leak detection on, lib/lsan_suppressions.c); a scenario's last check is that
no jpki run printed a sanitizer report.
"""
import argparse
import calendar
import concurrent.futures
import csv
import datetime as dt
import hashlib
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
from pathlib import Path

JST = dt.timezone(dt.timedelta(hours=9))
MUNI = "131164"
ADD_NOW = "2022-03-01T09:00:00+09:00"      # residents are registered
ISSUE_NOW = "2022-03-31T10:00:00+09:00"    # cards are issued (unless told)
BASE_URL = "https://jpki.example.jp"
PINS = {"sign": "ABC123", "auth": "1234", "juki": "1234", "text": "1234"}
ADDRS = ["東京都豊島区南池袋1丁目1番1号", "東京都豊島区東池袋3丁目2番1号",
         "東京都豊島区西池袋5丁目4番3号", "東京都豊島区目白2丁目7番9号"]
# Unique full names within a scenario (at most 15 residents each).
NAMES = [("佐藤 一郎", "サトウ イチロウ"), ("鈴木 花子", "スズキ ハナコ"),
         ("高橋 次郎", "タカハシ ジロウ"), ("田中 美咲", "タナカ ミサキ"),
         ("伊藤 健太", "イトウ ケンタ"), ("渡辺 陽子", "ワタナベ ヨウコ"),
         ("山本 翔太", "ヤマモト ショウタ"), ("中村 結衣", "ナカムラ ユイ"),
         ("小林 大輔", "コバヤシ ダイスケ"), ("加藤 彩乃", "カトウ アヤノ"),
         ("吉田 拓也", "ヨシダ タクヤ"), ("山田 真由美", "ヤマダ マユミ"),
         ("佐々木 直樹", "ササキ ナオキ"), ("山口 恵", "ヤマグチ メグミ"),
         ("松本 悠斗", "マツモト ユウト"), ("井上 千尋", "イノウエ チヒロ")]
HEADER = ["notice_id", "resident_id", "kind", "name", "postal_address", "reservation_id",
          "window_first", "window_last"]
BUSY = "another notice run is in progress"
FAILPOINTS = ("notice.after-claim", "notice.mid-file", "notice.after-rename",
              "notice.before-done")

PRINT_LOCK = threading.Lock()
FAILURES = []
JPKI = None
SRC = None


def say(line):
    with PRINT_LOCK:
        print(line, flush=True)


# ---------------------------------------------------------------- dates (DOMAIN §1-2)

def day(s):
    return s if isinstance(s, dt.date) else dt.date.fromisoformat(s)


def jst_day(now):
    return dt.datetime.fromisoformat(now).astimezone(JST).date()


def at(d, hour=10):
    """A JPKI_NOW on day d (JST)."""
    return f"{day(d).isoformat()}T{hour:02d}:00:00+09:00"


def birthday_in(birth, year):
    """Feb 29 falls on Feb 28 in common years (feb29 = feb28)."""
    if birth.month == 2 and birth.day == 29 and not calendar.isleap(year):
        return dt.date(year, 2, 28)
    return dt.date(year, birth.month, birth.day)


def nth_birthday_after(birth, d, n):
    """The Nth birthday strictly after day d."""
    y = d.year if birthday_in(birth, d.year) > d else d.year + 1
    return birthday_in(birth, y + n - 1)


def legal_age(birth, d):
    """One year older at the end of the day before the birthday."""
    e = d + dt.timedelta(days=1)
    return e.year - birth.year - ((e.month, e.day) < (birth.month, birth.day))


def add_months(d, n):
    """Same day number, clamped to the month's last day."""
    y, m = divmod(d.month - 1 + n, 12)
    y += d.year
    return dt.date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


def window(expiry):
    """From the day after the date three months before the expiry, to the expiry."""
    return add_months(expiry, -3) + dt.timedelta(days=1), expiry


def card_expiry(birth, issued):
    adult = 18 if issued >= dt.date(2022, 4, 1) else 20
    return nth_birthday_after(birth, issued, 10 if legal_age(birth, issued) >= adult else 5)


def month_bounds(y, m):
    first = dt.date(y, m, 1)
    return first, add_months(first, 1) - dt.timedelta(days=1)


def month_after_next(d):
    y, m = divmod(d.month - 1 + 2, 12)
    return d.year + y, m + 1


ERAS = [(dt.date(2019, 5, 1), "令和"), (dt.date(1989, 1, 8), "平成"),
        (dt.date(1926, 12, 25), "昭和"), (dt.date(1912, 7, 30), "大正"),
        (dt.date(1873, 1, 1), "明治")]
WEEKDAYS = "月火水木金土日"


def wareki(d):
    """令和9年1月26日; year 1 is 元年."""
    for start, name in ERAS:
        if d >= start:
            n = d.year - start.year + 1
            return f"{name}{'元' if n == 1 else n}年{d.month}月{d.day}日"
    return f"{d.year}年{d.month}月{d.day}日"


# ---------------------------------------------------------------- Damm check digit

# The table H. M. Damm published (the one in the Wikipedia article "Damm algorithm").
DAMM = [[0, 3, 1, 7, 5, 9, 8, 6, 4, 2], [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
        [4, 2, 0, 6, 8, 7, 1, 3, 5, 9], [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
        [6, 1, 2, 3, 0, 4, 5, 9, 7, 8], [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
        [5, 8, 6, 9, 7, 2, 0, 1, 3, 4], [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
        [9, 4, 3, 8, 6, 1, 7, 2, 0, 5], [2, 5, 8, 1, 4, 3, 6, 7, 9, 0]]


def damm(digits):
    interim = 0
    for c in digits:
        interim = DAMM[interim][int(c)]
    return interim


def damm_ok(digits):
    return damm(digits) == 0


def with_check(digits):
    return digits + str(damm(digits))


def grouped(rid):
    return " ".join(rid[i:i + 4] for i in range(0, len(rid), 4))


def fullwidth(s):
    return "".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in s)


# ---------------------------------------------------------------- runs and stores

class Abort(Exception):
    pass


class Run:
    def __init__(self, cmd, rc, out, err):
        self.cmd, self.rc = cmd, rc
        self.out = out.decode("utf-8", "replace")
        self.err = err.decode("utf-8", "replace")

    def json(self):
        try:
            return json.loads(self.out)
        except ValueError:
            return {}

    def lines(self):
        return self.err.strip().splitlines()

    def __repr__(self):
        err = self.err if len(self.err) < 700 else self.err[:350] + " ... " + self.err[-350:]
        return (f"`jpki {' '.join(self.cmd)}` exit {self.rc}; stdout {self.out[:400]!r}; "
                f"stderr {err!r}")


def base_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("JPKI_")}
    env.setdefault("LANG", "C.UTF-8")
    return env


SANITIZER = re.compile(r"Sanitizer|runtime error:")


def run_env(now, env):
    e = base_env()
    e["JPKI_NOW"] = now
    e.update(env or {})
    return e


class Store:
    def __init__(self, name, directory, url, keys, rows):
        self.name, self.dir, self.url, self.keys = name, Path(directory), url, Path(keys)
        self._rows = rows
        self.runs, self.reports = 0, []   # jpki runs, and those with a sanitizer report

    def note(self, r):
        self.runs += 1
        if SANITIZER.search(r.err):
            self.reports.append(r)
        return r

    def argv(self, args):
        return ["--store", self.url, "--keys", str(self.keys), *map(str, args)]

    def jpki(self, *args, now, env=None, timeout=300):
        cmd = self.argv(args)
        cp = subprocess.run([JPKI, *cmd], cwd=self.dir, env=run_env(now, env),
                            capture_output=True, stdin=subprocess.DEVNULL, timeout=timeout)
        return self.note(Run(cmd, cp.returncode, cp.stdout, cp.stderr))

    def popen(self, *args, now, env=None):
        cmd = self.argv(args)
        p = subprocess.Popen([JPKI, *cmd], cwd=self.dir, env=run_env(now, env),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL)
        return p, cmd

    def rows(self, sql):
        """Rows as tuples of str (None for NULL), whatever the backend."""
        return self._rows(sql)


class SqliteBackend:
    name = "sqlite"

    def __init__(self, tmp):
        self.tmp = Path(tmp)
        self.tdir = None
        self.lock = threading.Lock()

    def template(self):
        with self.lock:
            if self.tdir is None:
                d = self.tmp / "template"
                d.mkdir()
                st = Store("template", d, str(d / "s.db"), d / "keys", None)
                r = st.jpki("init", "--insecure-no-passphrase", "--history-from", "2016-01-04",
                            now=ADD_NOW)
                if r.rc != 0:
                    raise Abort(f"init: {r}")
                self.tdir = d
            return self.tdir

    def new_store(self, name):
        t = self.template()
        d = self.tmp / name
        d.mkdir()
        for f in t.iterdir():
            if f.name.startswith("s.db") and f.is_file():
                shutil.copy2(f, d / f.name)
        shutil.copytree(t / "keys", d / "keys")
        db = d / "s.db"

        def rows(sql):
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
            try:
                return [tuple(None if v is None else str(v) for v in r)
                        for r in con.execute(sql)]
            finally:
                con.close()
        return Store(name, d, str(db), d / "keys", rows)


def copy_unescape(field):
    """A field of COPY ... TO STDOUT (text format)."""
    if field == "\\N":
        return None
    out, i = [], 0
    esc = {"t": "\t", "n": "\n", "r": "\r", "\\": "\\", "b": "\b", "f": "\f", "v": "\v"}
    while i < len(field):
        c = field[i]
        if c == "\\" and i + 1 < len(field):
            out.append(esc.get(field[i + 1], field[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


class PgBackend:
    """A database per scenario on one server: the server of JPKI_TEST_STORE
    (pgserver.py run) or one started here."""
    name = "postgresql"

    def __init__(self, tmp, admin_url, psql):
        self.tmp, self.admin, self.psql = Path(tmp), admin_url, psql
        self.tname = None
        self.lock = threading.Lock()

    def url_for(self, dbname):
        """admin_url naming another database (by hand: urllib drops the empty
        host of postgresql:///db?host=/dir)."""
        head, sep, query = self.admin.partition("?")
        scheme, _, rest = head.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}/{urllib.parse.quote(dbname)}{sep}{query}"

    def sql(self, url, sql):
        cp = subprocess.run([self.psql, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", url,
                             "-c", sql], capture_output=True, timeout=120)
        if cp.returncode != 0:
            raise Abort(f"psql {sql[:80]!r}: {cp.stderr.decode(errors='replace')}")
        return cp.stdout.decode("utf-8")

    def template(self):
        with self.lock:
            if self.tname is None:
                name = f"tmpl_notice_{os.getpid()}"
                self.sql(self.admin, f'CREATE DATABASE "{name}"')
                d = self.tmp / "template"
                d.mkdir()
                st = Store("template", d, self.url_for(name), d / "keys", None)
                r = st.jpki("init", "--insecure-no-passphrase", "--history-from", "2016-01-04",
                            now=ADD_NOW)
                if r.rc != 0:
                    raise Abort(f"init: {r}")
                self.tname, self.tdir = name, d
            return self.tname, self.tdir

    def new_store(self, name):
        tname, tdir = self.template()
        db = f"notice_{name.replace('-', '_')}_{os.getpid()}"
        d = self.tmp / name
        d.mkdir()
        with self.lock:
            for attempt in range(20):
                try:
                    self.sql(self.admin, f'CREATE DATABASE "{db}" TEMPLATE "{tname}"')
                    break
                except Abort:
                    if attempt == 19:
                        raise
                    time.sleep(0.5)
        shutil.copytree(tdir / "keys", d / "keys")
        url = self.url_for(db)

        def rows(sql):
            text = self.sql(url, f"COPY ({sql}) TO STDOUT")
            return [tuple(copy_unescape(f) for f in line.split("\t"))
                    for line in text.split("\n") if line != ""]
        return Store(name, d, url, d / "keys", rows)

    def drop_all(self):
        """The scenario databases and the template (the server may outlive us)."""
        try:
            out = self.sql(self.admin, "SELECT datname FROM pg_database WHERE datname LIKE "
                           f"'%\\_{os.getpid()}'")
            for db in out.split():
                self.sql(self.admin, f'DROP DATABASE IF EXISTS "{db}"')
        except Abort:
            pass


# ---------------------------------------------------------------- scenarios

class Sc:
    def __init__(self, name, store):
        self.name, self.st = name, store
        self.checks = self.failed = 0
        self.people = []

    def check(self, cond, msg, detail=None):
        self.checks += 1
        if cond:
            say(f"  ok    [{self.name}] {msg}")
        else:
            self.failed += 1
            text = f"[{self.name}] {msg}" + (f": {detail}" if detail is not None else "")
            FAILURES.append(text)
            say(f"  FAIL  {text}")
        return bool(cond)

    def require(self, cond, msg, detail=None):
        if not self.check(cond, msg, detail):
            raise Abort(f"cannot go on after: {msg}")

    def ok(self, msg, *args, now, **kw):
        r = self.st.jpki(*args, now=now, **kw)
        self.require(r.rc == 0, msg, r)
        return r

    def jpki(self, *args, now, **kw):
        return self.st.jpki(*args, now=now, **kw)

    # -- the store, read directly
    def notices(self, where="1 = 1"):
        cols = ("id", "run", "seq", "resident", "kind", "state", "target", "expires",
                "expiring", "reservation_id", "application_id", "file", "cancel_reason")
        rows = self.st.rows(f"SELECT {', '.join(cols)} FROM notice WHERE {where} ORDER BY id")
        out = []
        for r in rows:
            n = dict(zip(cols, r))
            for k in ("id", "run", "seq", "resident"):
                n[k] = int(n[k])
            out.append(n)
        return out

    def targets(self):
        """notice id -> set of targets ('cert:SERIAL', 'card:SERIAL', lower case)."""
        out = {}
        for t, n in self.st.rows("SELECT target, notice FROM notice_target"):
            out.setdefault(int(n), set()).add(t.lower())
        return out

    def runs(self):
        cols = ("id", "expiring", "run_on", "state", "out_dir", "per_file", "selected",
                "printed", "cancelled", "expired_before")
        return [dict(zip(cols, r)) for r in self.st.rows(
            f"SELECT {', '.join(cols)} FROM notice_run ORDER BY id")]

    def snapshot(self):
        """The notice tables and the audit log's length."""
        snap = {}
        for t in ("notice", "notice_run", "notice_target", "notice_setting"):
            snap[t] = sorted(repr(r) for r in self.st.rows(f"SELECT * FROM {t}"))
        snap["audit_log"] = self.st.rows("SELECT count(*) FROM audit_log")
        return snap

    def person(self, label, birth, **kw):
        p = Person(self, label, birth, **kw)
        self.people.append(p)
        return p

    def by_id(self, rid):
        return next((p for p in self.people if p.id == rid), None)

    def label(self, rid):
        p = self.by_id(rid)
        return p.label if p else f"resident {rid}"

    def labels(self, ids):
        return sorted(self.label(i) for i in ids)


class Person:
    """A resident and what DOMAIN §2 says they hold."""

    def __init__(self, sc, label, birth, postal=None, address=None, now=ADD_NOW):
        self.sc, self.label, self.birth = sc, label, day(birth)
        self.name, self.kana = NAMES[len(sc.people) % len(NAMES)]
        self.postal = postal
        self.address = address or ADDRS[len(sc.people) % len(ADDRS)]
        self.status = "registered"
        self.card = self.card_path = self.card_exp = None
        self.certs = {}     # kind -> (serial, expires): the good ones
        args = ["resident", "add", "--name", self.name, "--kana", self.kana, "--birth",
                self.birth, "--sex", 1 + len(sc.people) % 2, "--address", self.address,
                "--municipality", MUNI]
        if postal:
            args += ["--postal-code", postal]
        r = sc.ok(f"{label}: resident add (born {self.birth})", *args, now=now)
        self.id = int(r.out.strip())

    def issue(self, now=ISSUE_NOW):
        """card issue; the expiries are computed here and must match."""
        sc, d = self.sc, jst_day(now)
        card_exp = card_expiry(self.birth, d)
        auth = min(nth_birthday_after(self.birth, d, 5), card_exp)
        want = {"auth": auth}
        if legal_age(self.birth, d) >= 15:
            want["sign"] = min(nth_birthday_after(self.birth, d, 5), card_exp, auth)
        pins = sc.st.dir / "pins.json"
        if not pins.exists():
            pins.write_text(json.dumps(PINS))
        path = sc.st.dir / f"{self.label}.card"
        r = sc.ok(f"{self.label}: card issue on {d}", "card", "issue", "--resident", self.id,
                  "--card", path, "--pins", pins, "--json", now=now)
        j = r.json()
        got = {c["kind"]: day(c["expires"]) for c in j["certificates"]}
        sc.require(day(j["card_expires"]) == card_exp and got == want,
                   f"{self.label}: (setup) card to {card_exp}, certificates "
                   + ", ".join(f"{k} to {v}" for k, v in sorted(want.items())),
                   {"card": j.get("card_expires"), "certs": got})
        self.card, self.card_path, self.card_exp = j["card"].lower(), path, card_exp
        self.certs = {c["kind"]: (c["serial"].lower(), day(c["expires"]))
                      for c in j["certificates"]}
        return self

    def renew(self, now):
        """cert renew in the window: the 6th birthday after, capped by the card."""
        sc, d = self.sc, jst_day(now)
        first, _ = window(self.certs["auth"][1])
        n = 6 if d >= first else 5
        auth = min(nth_birthday_after(self.birth, d, n), self.card_exp)
        want = {"auth": auth}
        if "sign" in self.certs:
            want["sign"] = min(nth_birthday_after(self.birth, d, n), self.card_exp, auth)
        r = sc.ok(f"{self.label}: cert renew on {d}", "cert", "renew", "--resident", self.id,
                  "--card", self.card_path, "--pins", sc.st.dir / "pins.json", "--json",
                  now=now)
        j = r.json()
        got = {c["kind"]: day(c["expires"]) for c in j["certificates"]}
        sc.require(got == want, f"{self.label}: (setup) renewed certificates to "
                   + ", ".join(f"{k} {v}" for k, v in sorted(want.items())), got)
        self.certs = {c["kind"]: (c["serial"].lower(), day(c["expires"]))
                      for c in j["certificates"]}

    def end(self, event, on):
        self.sc.ok(f"{self.label}: resident {event} on {on}", "resident", event, self.id,
                   "--on", on, "--json", now=at(on))
        self.status = {"decease": "deceased", "remove": "removed"}[event]
        self.card, self.certs = None, {}


def plan(people, y, m, today, covered):
    """The notices a run of month y-m on day today must make: resident id ->
    (kind, expires, targets), and the targets that expired before today.
    covered: the targets earlier notices hold (each is covered once ever)."""
    first, last = month_bounds(y, m)
    out, expired = {}, 0
    for p in people:
        if p.status != "registered" or p.card is None:
            continue
        cands = []
        if first <= p.card_exp <= last:
            cands.append(("card", p.card_exp, f"card:{p.card}"))
        for serial, exp in p.certs.values():
            if first <= exp <= last:
                cands.append(("cert", exp, f"cert:{serial}"))
        cands = [c for c in cands if c[2] not in covered]
        live = [c for c in cands if c[1] >= today]
        expired += len(cands) - len(live)
        if not live:
            continue
        cards = [c for c in live if c[0] == "card"]
        lead = cards[0] if cards else min(live, key=lambda c: c[1])
        out[p.id] = (lead[0], lead[1], {c[2] for c in live})
    return out, expired


# ---------------------------------------------------------------- files

def read_manifest(path):
    """(header, rows as dicts); raises on a bad file."""
    with open(path, newline="", encoding="utf-8") as f:
        rd = csv.reader(f)
        header = next(rd)
        rows = [dict(zip(header, r)) for r in rd]
    return header, rows


def manifest_rows(sc, directory, what):
    p = Path(directory) / "manifest.csv"
    try:
        header, rows = read_manifest(p)
    except (OSError, StopIteration, UnicodeDecodeError, csv.Error) as e:
        sc.check(False, f"{what}: manifest.csv parses", e)
        return None
    sc.check(header == HEADER, f"{what}: manifest.csv header is exactly {','.join(HEADER)}",
             header)
    return rows


def pdf_pages(path):
    cp = subprocess.run(["pdfinfo", str(path)], capture_output=True, timeout=60)
    m = re.search(rb"^Pages:\s+(\d+)", cp.stdout, re.M)
    return int(m.group(1)) if cp.returncode == 0 and m else None


def pdf_text(path, page):
    cp = subprocess.run(["pdftotext", "-enc", "UTF-8", "-f", str(page), "-l", str(page),
                         str(path), "-"], capture_output=True, timeout=60)
    return cp.stdout.decode("utf-8", "replace") if cp.returncode == 0 else None


def squash(s):
    return re.sub(r"\s+", "", s or "")


def tree(directory):
    """Every path under directory (relative), '/' after directories."""
    d = Path(directory)
    if not d.exists():
        return []
    return sorted(str(p.relative_to(d)) + ("/" if p.is_dir() else "") for p in d.rglob("*"))


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def one_line(r):
    return len(r.lines()) == 1 and r.lines()[0].strip() != ""


# ---------------------------------------------------------------- shared checks

def check_selection(sc, what, notices, expected, targets):
    """The stored notices of one run against plan(): one per resident, kind,
    expiry, the targets it covers, the application ID of card notices."""
    got_res = [n["resident"] for n in notices]
    sc.check(sorted(got_res) == sorted(expected),
             f"{what}: notices for exactly {', '.join(sc.labels(expected)) or 'nobody'}",
             f"got {sc.labels(got_res)}")
    by_res = {n["resident"]: n for n in notices}
    for rid, (kind, exp, tg) in sorted(expected.items()):
        n = by_res.get(rid)
        if n is None:
            continue
        lab = sc.label(rid)
        sc.check(n["kind"] == kind and day(n["expires"]) == exp,
                 f"{what}: {lab}: one notice of kind {kind} about {exp}",
                 {k: n[k] for k in ("kind", "expires")})
        sc.check(targets.get(n["id"], set()) == tg,
                 f"{what}: {lab}: the notice covers {len(tg)} target(s): "
                 + ", ".join(sorted(t.split(':')[0] for t in tg)),
                 f"got {sorted(targets.get(n['id'], set()))}, want {sorted(tg)}")
        lead_ok = (f"{n['kind']}:{n['target'].lower()}" in tg)
        sc.check(lead_ok, f"{what}: {lab}: its target is one it covers (the "
                 f"{'card' if kind == 'card' else 'first certificate to expire'})", n["target"])
        app = n["application_id"]
        if kind == "card":
            sc.check(app is not None and len(app) == 23 and app.isdigit(),
                     f"{what}: {lab}: a card notice carries a 23-digit application ID", app)
        else:
            sc.check(app in (None, ""), f"{what}: {lab}: a certificate notice has no "
                     "application ID", app)


def check_finished_run(sc, what, run_id, out_dir, expected, per_file, letters_by_res=None):
    """A finished run: every expected resident once in the store (printed,
    seq 1..n without gaps, file per seq) and in the manifest, the PDFs
    named and paged as they must be, no *.tmp."""
    out_dir = Path(out_dir)
    ns = sorted(sc.notices(f"run = {run_id}"), key=lambda n: n["seq"])
    res = [n["resident"] for n in ns]
    sc.check(sorted(res) == sorted(expected) and len(set(res)) == len(res),
             f"{what}: the store holds one notice for each of "
             f"{', '.join(sc.labels(expected)) or 'nobody'}", sc.labels(res))
    sc.check(all(n["state"] == "printed" for n in ns),
             f"{what}: every notice of the run is printed",
             [(sc.label(n["resident"]), n["state"]) for n in ns if n["state"] != "printed"])
    sc.check([n["seq"] for n in ns] == list(range(1, len(ns) + 1)),
             f"{what}: seq runs 1..{len(ns)} without gaps", [n["seq"] for n in ns])
    per = per_file or max(len(ns), 1)
    want_file = {n["id"]: f"municipal-{(n['seq'] - 1) // per + 1:03d}.pdf" for n in ns}
    sc.check(all(n["file"] == want_file[n["id"]] for n in ns),
             f"{what}: each notice is recorded in municipal-NNN.pdf of its seq "
             f"({per} per file)",
             [(n["seq"], n["file"], want_file[n["id"]]) for n in ns
              if n["file"] != want_file[n["id"]]])
    nfiles = (len(ns) + per - 1) // per
    want_pdfs = sorted([f"municipal-{k:03d}.pdf" for k in range(1, nfiles + 1)]
                       + [f"jlis-{k:03d}.pdf" for k in range(1, nfiles + 1)])
    have = sorted(p.name for p in out_dir.glob("*.pdf"))
    sc.check(have == want_pdfs, f"{what}: the PDFs are {', '.join(want_pdfs) or 'none'}", have)
    tmp = [p.name for p in out_dir.iterdir() if p.name.endswith(".tmp")] \
        if out_dir.is_dir() else []
    sc.check(not tmp, f"{what}: no *.tmp file left in {out_dir.name}", tmp)
    pages_ok, detail = True, []
    for k in range(1, nfiles + 1):
        n_letters = min(per, len(ns) - (k - 1) * per)
        for series, mult in (("municipal", 2), ("jlis", 1)):
            p = out_dir / f"{series}-{k:03d}.pdf"
            got = pdf_pages(p) if p.exists() else None
            if got != mult * n_letters:
                pages_ok = False
                detail.append((p.name, got, mult * n_letters))
    sc.check(pages_ok, f"{what}: page counts (municipal 2 per letter, jlis 1 per letter)",
             detail)
    if letters_by_res is not None:
        # Each resident's letter is in exactly one municipal PDF (the printer
        # gets every letter once).
        texts = {}
        for k in range(1, nfiles + 1):
            p = out_dir / f"municipal-{k:03d}.pdf"
            cp = subprocess.run(["pdftotext", "-enc", "UTF-8", str(p), "-"],
                                capture_output=True, timeout=60)
            texts[p.name] = squash(cp.stdout.decode("utf-8", "replace"))
        bad = {}
        for rid in expected:
            name = squash(sc.by_id(rid).name)
            where = [f for f, t in texts.items() if name in t]
            if len(where) != 1:
                bad[sc.label(rid)] = where
        sc.check(not bad, f"{what}: each resident's name is in exactly one municipal PDF",
                 bad)
    rows = manifest_rows(sc, out_dir, what)
    if rows is not None:
        mres = [int(r["resident_id"]) for r in rows]
        printed = [n["resident"] for n in ns if n["state"] == "printed"]
        sc.check(mres == printed and len(set(mres)) == len(mres),
                 f"{what}: manifest.csv lists the printed notices once each, in seq order",
                 f"manifest {sc.labels(mres)}, store {sc.labels(printed)}")
    return ns, rows


def status_month(sc, now, month):
    r = sc.jpki("notice", "status", "--json", now=now)
    if r.rc != 0:
        return None, r
    m = next((x for x in r.json().get("months", []) if x.get("expiring") == month), None)
    return m, r


def notice_run(sc, now, *args, env=None):
    return sc.jpki("notice", "run", "--office", OFFICE, *args, now=now, env=env)


# ---------------------------------------------------------------- select

def sc_select(sc):
    now1 = at("2026-11-15")
    a01 = sc.person("exp-2027-01-01", "1980-01-01", postal="171-8422").issue()
    a31 = sc.person("exp-2027-01-31", "1975-01-31").issue()
    d31 = sc.person("exp-2026-12-31", "1981-12-31", postal="170-0013").issue()
    f01 = sc.person("exp-2027-02-01", "1982-02-01").issue()
    feb29 = sc.person("born-feb-29", "2000-02-29").issue(at("2022-03-01"))
    kid = sc.person("minor-12", "2010-01-15", postal="171-0021").issue()
    teen = sc.person("minor-16", "2006-01-20").issue()
    dead = sc.person("deceased", "1979-01-05").issue()
    gone = sc.person("removed", "1978-01-06").issue()
    early = sc.person("renewed-before", "1977-01-12").issue()
    x = sc.person("renewed-between", "1976-01-14", postal="170-0005").issue()
    m05 = sc.person("exp-2027-03-05", "1985-03-05").issue()
    m10 = sc.person("exp-2027-03-10", "1986-03-10").issue()
    m20 = sc.person("exp-2027-03-20", "1987-03-20").issue()
    # The boundaries really are where the test means them to be.
    sc.require(a01.certs["auth"][1] == dt.date(2027, 1, 1)
               and a31.certs["sign"][1] == dt.date(2027, 1, 31)
               and d31.certs["auth"][1] == dt.date(2026, 12, 31)
               and f01.certs["auth"][1] == dt.date(2027, 2, 1)
               and feb29.certs["auth"][1] == dt.date(2027, 2, 28)
               and kid.card_exp == dt.date(2027, 1, 15) and "sign" not in kid.certs
               and teen.card_exp == dt.date(2027, 1, 20) and "sign" in teen.certs,
               "(setup) expiries at 2027-01-01, 2027-01-31, 2026-12-31, 2027-02-01, "
               "2027-02-28 (Feb 29 birth), minors' 5-year cards in 2027-01")
    dead.end("decease", "2026-10-01")
    gone.end("remove", "2026-10-01")
    early.renew(at("2026-11-01"))
    covered = set()

    # -- the dry run counts what the run then sends, and stores nothing
    y, m = month_after_next(jst_day(now1))
    sc.check((y, m) == (2027, 1), "(model) the month after next of 2026-11-15 is 2027-01")
    exp1, expired1 = plan(sc.people, 2027, 1, jst_day(now1), covered)
    before = sc.snapshot()
    r = sc.jpki("notice", "run", "--dry-run", "--json", now=now1)
    sc.check(r.rc == 0, "dry run on 2026-11-15 exits 0", r)
    j = r.json()
    kinds = {"cert": sum(v[0] == "cert" for v in exp1.values()),
             "card": sum(v[0] == "card" for v in exp1.values())}
    sc.check(j.get("expiring") == "2027-01" and j.get("dry_run") is True
             and j.get("selected") == len(exp1) and j.get("by_kind") == kinds
             and j.get("expired_before") == expired1 and j.get("run") is None
             and j.get("out") is None,
             f"dry run --json: 2027-01, {len(exp1)} notices {kinds}, expired_before "
             f"{expired1}, no run, no out", j)
    sc.check(sc.snapshot() == before, "dry run stores nothing (notice tables and audit "
             "log unchanged)")
    sc.check(not (sc.st.dir / "var").exists(), "dry run writes nothing (no var/notices)",
             tree(sc.st.dir / "var"))

    # -- the real run, default month
    r = notice_run(sc, now1, "--json", "--base-url", BASE_URL)
    sc.require(r.rc == 0, "notice run on 2026-11-15 exits 0", r)
    j = r.json()
    out1 = (sc.st.dir / "var/notices/2027-01").resolve()
    sc.check(j.get("expiring") == "2027-01" and j.get("dry_run") is False
             and j.get("resumed") is False and isinstance(j.get("run"), int)
             and j.get("selected") == len(exp1) and j.get("notices") == len(exp1)
             and j.get("printed") == len(exp1) and j.get("cancelled") == 0
             and j.get("by_kind") == kinds and j.get("expired_before") == expired1
             and j.get("files") == 2 and j.get("out") == str(out1),
             f"run --json: the same counts as the dry run, {len(exp1)} printed, 2 files, "
             f"out {out1}", j)
    run1 = j.get("run")
    ns = sc.notices(f"run = {run1}") if run1 else []
    tg = sc.targets()
    check_selection(sc, "2027-01 run", ns, exp1, tg)
    sc.check(a01.id in exp1 and a31.id in exp1 and d31.id not in exp1 and f01.id not in exp1,
             "(model) 2027-01-01 and 2027-01-31 in, 2026-12-31 and 2027-02-01 out")
    for p in (d31, f01, dead, gone, early, feb29, m05, m10, m20):
        sc.check(all(n["resident"] != p.id for n in ns),
                 f"2027-01 run: nothing for {p.label}")
    sc.check(len([n for n in ns if n["resident"] == teen.id]) == 1,
             "2027-01 run: minor-16 (card, signing and auth certificates in the month) gets "
             "exactly one notice")
    rows = manifest_rows(sc, out1, "2027-01 run")
    if rows is not None:
        got = {int(r_["resident_id"]): r_ for r_ in rows}
        sc.check(sorted(got) == sorted(exp1) and len(rows) == len(got),
                 "2027-01 manifest: one row for each expected resident",
                 sc.labels([int(r_["resident_id"]) for r_ in rows]))
        bad = []
        for rid, (kind, exp, _) in exp1.items():
            r_ = got.get(rid)
            wf, wl = window(exp)
            if r_ is None or (r_["kind"], r_["window_first"], r_["window_last"]) != \
                    (kind, wf.isoformat(), wl.isoformat()):
                bad.append((sc.label(rid), r_ and (r_["kind"], r_["window_first"],
                                                   r_["window_last"]), (kind, str(wf), str(wl))))
        sc.check(not bad, "2027-01 manifest: kind and renewal window of every row as "
                 "computed here", bad)
    covered |= {t for v in exp1.values() for t in v[2]}

    # -- x renews between two runs: a rerun of 2027-01 and the 2027-02 run skip x
    x.renew(at("2026-11-20"))
    now2 = at("2026-11-20")
    r = notice_run(sc, now2, "--expiring", "2027-01", "--json")
    sc.check(r.rc == 0 and r.json().get("selected") == 0,
             "a rerun of 2027-01 on 2026-11-20 (after renewed-between renewed) exits 0 and "
             "selects nobody", r)
    out1b = (sc.st.dir / "var/notices/2027-01.2").resolve()
    sc.check(r.json().get("out") == str(out1b),
             "the rerun writes to var/notices/2027-01.2", r.json().get("out"))
    rows2 = manifest_rows(sc, out1b, "2027-01 rerun") if out1b.exists() else None
    sc.check(rows2 == [], "the rerun's manifest has no rows", rows2)

    now3 = at("2026-12-15")
    exp2, expired2 = plan(sc.people, 2027, 2, jst_day(now3), covered)
    sc.check(sorted(exp2) == sorted([f01.id, feb29.id]),
             "(model) the 2027-02 run is for exp-2027-02-01 and born-feb-29 only")
    r = notice_run(sc, now3, "--json")
    sc.require(r.rc == 0, "notice run on 2026-12-15 exits 0", r)
    j = r.json()
    sc.check(j.get("expiring") == "2027-02" and j.get("selected") == len(exp2)
             and j.get("expired_before") == expired2,
             f"a run on 2026-12-15 sends 2027-02 (year rollover): {len(exp2)} notices", j)
    ns2 = sc.notices(f"run = {j.get('run')}") if j.get("run") else []
    check_selection(sc, "2027-02 run", ns2, exp2, sc.targets())
    n29 = next((n for n in ns2 if n["resident"] == feb29.id), None)
    sc.check(n29 is not None and n29["expires"] == "2027-02-28",
             "born 2000-02-29, card issued 2022-03-01: the notice is about 2027-02-28",
             n29 and n29["expires"])
    sc.check(all(n["resident"] != x.id for n in ns2),
             "2027-02 run: renewed-between is not selected again")
    covered |= {t for v in exp2.values() for t in v[2]}

    # -- nobody twice across every run so far
    alln = sc.notices()
    res = [n["resident"] for n in alln]
    sc.check(len(res) == len(set(res)), "no resident has two notices across the runs",
             sc.labels(res))
    for p in (dead, gone, early, d31):
        sc.check(p.id not in res, f"{p.label} never got a notice")

    # -- catch-up of the current month after some expiries
    now4 = at("2027-03-10")
    exp3, expired3 = plan(sc.people, 2027, 3, jst_day(now4), covered)
    sc.check(sorted(exp3) == sorted([m10.id, m20.id]) and expired3 == 2,
             "(model) catch-up of 2027-03 on 2027-03-10: exp-2027-03-10 (expires that day) and "
             "exp-2027-03-20 get notices, exp-2027-03-05's two certificates expired before")
    r = sc.jpki("notice", "run", "--dry-run", "--expiring", "2027-03", "--json", now=now4)
    sc.check(r.rc == 0 and r.json().get("selected") == len(exp3)
             and r.json().get("expired_before") == expired3,
             f"catch-up dry run: {len(exp3)} notices, expired_before {expired3}", r)
    r = notice_run(sc, now4, "--expiring", "2027-03", "--json")
    sc.require(r.rc == 0, "catch-up run --expiring 2027-03 on 2027-03-10 exits 0", r)
    j = r.json()
    sc.check(j.get("selected") == len(exp3) and j.get("expired_before") == expired3,
             f"catch-up run --json: {len(exp3)} notices, expired_before {expired3}", j)
    ns3 = sc.notices(f"run = {j.get('run')}") if j.get("run") else []
    check_selection(sc, "2027-03 catch-up", ns3, exp3, sc.targets())
    sc.check(all(n["resident"] != m05.id for n in sc.notices()),
             "exp-2027-03-05 (expired 5 days before the catch-up run) gets no notice")
    info = [x_ for x_ in sc.runs() if x_["id"] == str(j.get("run"))]
    sc.check(bool(info) and info[0]["expired_before"] == str(expired3),
             "the catch-up run's stored expired_before", info)


# ---------------------------------------------------------------- idempotent

def crashed(sc, what, r):
    return sc.check(r.rc == -9, f"{what}: the process killed itself (SIGKILL)", r)


def sc_idempotent(sc):
    # 2027-01 (run on 2026-11-15): after-claim, after-rename, then finished.
    jan = [sc.person(f"jan-{d:02d}", f"19{70 + i}-01-{d:02d}",
                     postal=["171-8422", None, "170-0013"][i % 3]).issue()
           for i, d in enumerate((3, 7, 11, 17, 23, 27))]
    # 2027-02 (run on 2026-12-15, --out): mid-file, before-done, then finished.
    feb = [sc.person(f"feb-{d:02d}", f"19{80 + i}-02-{d:02d}",
                     postal=[None, "171-0021"][i % 2]).issue()
           for i, d in enumerate((2, 9, 13, 19, 25))]
    # 2027-03 (run on 2027-01-15): two processes at once.
    mar = [sc.person(f"mar-{d:02d}", f"19{90 + i}-03-{d:02d}").issue()
           for i, d in enumerate((4, 14, 24))]
    covered = set()

    # ---- January
    now = at("2026-11-15")
    exp, _ = plan(sc.people, 2027, 1, jst_day(now), covered)
    sc.require(sorted(exp) == sorted(p.id for p in jan), "(model) 2027-01: the six jan-*")
    jan_dir = (sc.st.dir / "var/notices/2027-01").resolve()
    r = notice_run(sc, now, "--per-file", "2", env={"JPKI_FAILPOINT": "notice.after-claim"})
    crashed(sc, "2027-01 run with JPKI_FAILPOINT=notice.after-claim", r)
    ns = sc.notices("expiring = '2027-01'")
    sc.check(len(ns) == 6 and all(n["state"] == "selected" for n in ns),
             "after the crash after the claim: 6 notices stored, all selected",
             [(n["resident"], n["state"]) for n in ns])
    sc.check(jan_dir.is_dir() and not list(jan_dir.glob("*.pdf")),
             "after the crash after the claim: no PDF yet", tree(jan_dir))
    m, r2 = status_month(sc, now, "2027-01")
    sc.check(m is not None and m.get("state") == "unfinished",
             "notice status --json: 2027-01 unfinished", m or r2)
    r = notice_run(sc, now, "--per-file", "2", env={"JPKI_FAILPOINT": "notice.after-rename"})
    crashed(sc, "rerun with JPKI_FAILPOINT=notice.after-rename", r)
    ns = sc.notices("expiring = '2027-01'")
    sc.check((jan_dir / "municipal-001.pdf").exists() and (jan_dir / "jlis-001.pdf").exists()
             and all(n["state"] == "selected" for n in ns) and len(ns) == 6,
             "after the crash after the rename: file 1 is on disk, its notices still "
             "selected, no new notices", ([n["state"] for n in ns], tree(jan_dir)))
    r = notice_run(sc, now, "--per-file", "2", "--json")
    sc.require(r.rc == 0, "rerun of the same command finishes the run (exit 0)", r)
    j = r.json()
    sc.check(j.get("resumed") is True and j.get("printed") == 6 and j.get("notices") == 6
             and j.get("out") == str(jan_dir),
             "the rerun --json: resumed, 6 notices, 6 printed, in var/notices/2027-01", j)
    runs = sc.runs()
    sc.check(len([x for x in runs if x["expiring"] == "2027-01"]) == 1,
             "one notice_run row for 2027-01 (the rerun finished it, no second claim)", runs)
    rid = j.get("run") or (runs[0]["id"] if runs else 0)
    check_finished_run(sc, "2027-01 after two crashes", rid, jan_dir, list(exp), 2,
                       letters_by_res=True)
    check_selection(sc, "2027-01", sc.notices(f"run = {rid}"), exp, sc.targets())
    m, r2 = status_month(sc, now, "2027-01")
    sc.check(m is not None and m.get("state") == "done", "notice status: 2027-01 done",
             m or r2)
    covered |= {t for v in exp.values() for t in v[2]}

    # the second run of the month
    before = sc.notices()
    r = notice_run(sc, at("2026-11-16"), "--per-file", "2", "--json")
    sc.check(r.rc == 0 and r.json().get("selected") == 0 and r.json().get("printed") == 0,
             "a second run of 2027-01 exits 0 with zero new notices", r)
    jan2 = (sc.st.dir / "var/notices/2027-01.2").resolve()
    sc.check(r.json().get("out") == str(jan2) and jan2.is_dir(),
             "the second run writes to a new directory var/notices/2027-01.2",
             r.json().get("out"))
    sc.check(sc.notices() == before, "the second run stores no notice")
    res = []
    for d in (jan_dir, jan2):
        rows = manifest_rows(sc, d, f"manifest of {d.name}") if (d / "manifest.csv").exists() \
            else None
        res += [int(x["resident_id"]) for x in rows or []]
    sc.check(sorted(res) == sorted(exp), "across both manifests every jan-* once, "
             "nobody twice", sc.labels(res))

    # ---- February, into a directory given with --out
    now = at("2026-12-15")
    exp, _ = plan(sc.people, 2027, 2, jst_day(now), covered)
    sc.require(sorted(exp) == sorted(p.id for p in feb), "(model) 2027-02: the five feb-*")
    out = sc.st.dir / "printer-feb"
    out.mkdir()
    args = ("--per-file", "2", "--out", "printer-feb")
    r = notice_run(sc, now, *args, env={"JPKI_FAILPOINT": "notice.mid-file"})
    crashed(sc, "2027-02 run --out printer-feb with JPKI_FAILPOINT=notice.mid-file", r)
    ns = sc.notices("expiring = '2027-02'")
    sc.check(len(ns) == 5 and all(n["state"] == "selected" for n in ns)
             and not (out / "municipal-001.pdf").exists(),
             "after the crash mid-file: 5 notices selected, municipal-001.pdf not there "
             "(only its temporary file)", ([n["state"] for n in ns], tree(out)))
    r = notice_run(sc, now, *args, env={"JPKI_FAILPOINT": "notice.before-done"})
    crashed(sc, "rerun with JPKI_FAILPOINT=notice.before-done", r)
    ns = sc.notices("expiring = '2027-02'")
    sc.check(len(ns) == 5 and all(n["state"] == "printed" for n in ns)
             and not (out / "manifest.csv").exists(),
             "after the crash before done: every notice printed, no manifest yet",
             ([n["state"] for n in ns], tree(out)))
    m, r2 = status_month(sc, now, "2027-02")
    sc.check(m is not None and m.get("state") == "unfinished",
             "notice status: 2027-02 still unfinished", m or r2)
    r = notice_run(sc, now, *args, "--json")
    sc.require(r.rc == 0, "rerun of the same command finishes the 2027-02 run", r)
    j = r.json()
    sc.check(j.get("resumed") is True and j.get("printed") == 5
             and j.get("out") == str(out.resolve()) and j.get("files") == 6,
             "the rerun --json: resumed, 5 printed, 6 files (3 per series), out printer-feb", j)
    rid = j.get("run") or 0
    check_finished_run(sc, "2027-02 after two crashes", rid, out, list(exp), 2,
                       letters_by_res=True)
    m, r2 = status_month(sc, now, "2027-02")
    sc.check(m is not None and m.get("state") == "done", "notice status: 2027-02 done",
             m or r2)
    covered |= {t for v in exp.values() for t in v[2]}
    (sc.st.dir / "printer-feb-2").mkdir()
    r = notice_run(sc, now, "--per-file", "2", "--out", "printer-feb-2", "--json")
    sc.check(r.rc == 0 and r.json().get("selected") == 0,
             "a second 2027-02 run into another --out exits 0 with zero notices", r)
    rows = manifest_rows(sc, sc.st.dir / "printer-feb-2", "second 2027-02 run") \
        if (sc.st.dir / "printer-feb-2/manifest.csv").exists() else None
    sc.check(rows == [], "its manifest has no rows", rows)

    # ---- March: two processes at once
    now = at("2027-01-15")
    exp, _ = plan(sc.people, 2027, 3, jst_day(now), covered)
    sc.require(sorted(exp) == sorted(p.id for p in mar), "(model) 2027-03: the three mar-*")
    procs = [sc.st.popen("notice", "run", "--office", OFFICE, "--json", now=now)
             for _ in range(2)]
    res_ = []
    for p, cmd in procs:
        try:
            out_, err_ = p.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            p.kill()
            out_, err_ = p.communicate()
        res_.append(sc.st.note(Run(cmd, p.returncode, out_, err_)))
    rcs = sorted(r.rc for r in res_)
    sel = sorted(r.json().get("selected", -1) for r in res_ if r.rc == 0)
    busy = [r for r in res_ if r.rc == 1]
    good = (rcs == [0, 1] and sel == [3] and BUSY in busy[0].err and one_line(busy[0])) or \
        (rcs == [0, 0] and sel == [0, 3])
    outcome = "one refused as busy" if rcs == [0, 1] else "one after the other"
    sc.check(good, "two runs at once: one exits 1 with 'another notice run is in progress', "
             "or both exit 0 and the second selects nobody"
             + (f" (this time: {outcome})" if good else ""), res_)
    ns = sc.notices("expiring = '2027-03'")
    res = [n["resident"] for n in ns]
    sc.check(sorted(res) == sorted(exp) and all(n["state"] == "printed" for n in ns),
             "after the race: one printed notice for each mar-*", sc.labels(res))
    mres = []
    for d in sorted((sc.st.dir / "var/notices").glob("2027-03*")):
        if (d / "manifest.csv").exists():
            mres += [int(x["resident_id"]) for x in read_manifest(d / "manifest.csv")[1]]
    sc.check(sorted(mres) == sorted(exp), "across the manifests of 2027-03 every mar-* once",
             sc.labels(mres))
    res = [n["resident"] for n in sc.notices()]
    sc.check(len(res) == len(set(res)) == 14, "in the whole store: 14 notices, nobody twice",
             sc.labels(res))


# ---------------------------------------------------------------- suspend

def sc_suspend(sc):
    people = [sc.person(f"jan-{d:02d}", f"19{80 + i}-01-{d:02d}").issue()
              for i, d in enumerate((6, 16, 26))]
    feb = [sc.person(f"feb-{d:02d}", f"19{80 + i}-02-{d:02d}").issue()
           for i, d in enumerate((5, 15, 25))]
    reason = "システム更新のため発送を停止（2020年の例）"
    now = at("2026-11-10")
    r = sc.jpki("notice", "suspend", "--reason", reason, now=now)
    sc.check(r.rc == 0, "notice suspend --reason exits 0", r)
    r = sc.jpki("notice", "status", "--json", now=now)
    s = r.json().get("suspension", {}) if r.rc == 0 else {}
    sc.check(s.get("suspended") is True and s.get("reason") == reason
             and s.get("since") == "2026-11-10T10:00:00+09:00",
             "notice status --json: suspended since 2026-11-10 10:00 JST with the reason", r)
    r = sc.jpki("notice", "status", now=now)
    sc.check(r.rc == 0 and "suspended" in r.out and reason in r.out,
             "notice status: says suspended and gives the reason", r)
    snap = sc.snapshot()
    r = sc.jpki("notice", "suspend", "--reason", "again", now=now)
    sc.check(r.rc == 1 and one_line(r), "suspending twice: exit 1, one line on stderr", r)
    sc.check(sc.snapshot() == snap, "suspending twice changes nothing")
    r = sc.jpki("notice", "suspend", "--reason", "長" * 70, now=now)
    sc.check(r.rc == 2 and one_line(r) and sc.snapshot() == snap,
             "a reason over 200 bytes: exit 2, nothing changed", r)

    now = at("2026-11-15")
    snap = sc.snapshot()
    r = notice_run(sc, now, "--json")
    sc.check(r.rc == 1 and "suspended" in r.err and one_line(r),
             "notice run while suspended: exit 1, one line saying it is suspended", r)
    rows = {t: sc.st.rows(f"SELECT count(*) FROM {t}")[0][0]
            for t in ("notice", "notice_run", "notice_target")}
    sc.check(rows == {"notice": "0", "notice_run": "0", "notice_target": "0"},
             "the refused run stored no notice, no run, no target", rows)
    sc.check(sc.snapshot() == snap, "the refused run left the notice tables and the audit "
             "log as they were")
    var = sc.st.dir / "var"
    files = [p for p in var.rglob("*") if p.is_file()] if var.exists() else []
    sc.check(not files, "the refused run wrote no file", files)
    sc.check(not var.exists() or not any(var.rglob("*")),
             "the refused run created no directory either (else the month's real run "
             "would later go to var/notices/2027-01.2)", tree(var))

    # resume, then catch up 2027-01 on 2026-12-01 (a crash, a second
    # suspension meeting the unfinished run, resume, finish)
    now = at("2026-12-01")
    r = sc.jpki("notice", "resume", "--json", now=now)
    sc.check(r.rc == 0 and r.json().get("suspended") is False, "notice resume exits 0", r)
    r = sc.jpki("notice", "status", "--json", now=now)
    sc.check(r.rc == 0 and r.json().get("suspension", {}).get("suspended") is False,
             "notice status --json: not suspended", r)
    snap = sc.snapshot()
    r = sc.jpki("notice", "resume", now=now)
    sc.check(r.rc == 1 and one_line(r) and sc.snapshot() == snap,
             "resume when not suspended: exit 1, one line, nothing changed", r)
    exp, _ = plan(sc.people, 2027, 1, jst_day(now), set())
    sc.require(sorted(exp) == sorted(p.id for p in people), "(model) 2027-01: the three jan-*")
    out = sc.st.dir / "catch-up"
    out.mkdir()
    args = ("--expiring", "2027-01", "--out", "catch-up")
    r = notice_run(sc, now, *args, env={"JPKI_FAILPOINT": "notice.after-claim"})
    crashed(sc, "catch-up run with JPKI_FAILPOINT=notice.after-claim", r)
    sc.ok("notice suspend (with a run unfinished)", "notice", "suspend", now=now)
    r = notice_run(sc, now, *args)
    sc.check(r.rc == 1 and "suspended" in r.err,
             "finishing the unfinished run while suspended: exit 1 (suspended)", r)
    ns = sc.notices()
    sc.check(all(n["state"] == "selected" for n in ns) and not list(out.glob("*.pdf")),
             "... and nothing was printed", ([n["state"] for n in ns], tree(out)))
    sc.ok("notice resume", "notice", "resume", now=now)
    r = notice_run(sc, now, *args, "--json")
    sc.require(r.rc == 0, "after resume, run --expiring 2027-01 catches the month up", r)
    j = r.json()
    sc.check(j.get("expiring") == "2027-01" and j.get("printed") == 3,
             "the catch-up: 2027-01, 3 printed", j)
    check_finished_run(sc, "catch-up of 2027-01", j.get("run") or 0, out, list(exp), 0)
    m, r2 = status_month(sc, now, "2027-01")
    sc.check(m is not None and m.get("state") == "done", "notice status: 2027-01 done",
             m or r2)

    # A suspension arriving between two files of a run in progress: the run
    # (--per-file 1) stops itself after its first file (JPKI_FAILPOINT
    # ...:stop), is suspended from another process, continues, and ends at
    # that file, refused; after resume the same command finishes it.
    now = at("2026-12-15")
    exp, _ = plan(sc.people, 2027, 2, jst_day(now), set())
    sc.require(sorted(exp) == sorted(p.id for p in feb), "(model) 2027-02: the three feb-*")
    out = sc.st.dir / "feb"
    out.mkdir()
    args = ("--out", "feb", "--per-file", "1")
    p, cmd = sc.st.popen("notice", "run", "--office", OFFICE, *args, now=now,
                         env={"JPKI_FAILPOINT": "notice.between-files:stop"})
    sc.require(wait_stopped(p), "the run stopped itself between its first and second file")
    first = out / "municipal-001.pdf"
    sc.check(first.exists() and not (out / "municipal-002.pdf").exists(),
             "... with municipal-001.pdf written and no second file", tree(out))
    sum1 = sha256(first) if first.exists() else None
    sc.ok("notice suspend (a run in progress)", "notice", "suspend", now=now)
    os.kill(p.pid, signal.SIGCONT)
    again = wait_stopped(p)
    sc.check(not again, "the run did not go on to a second file boundary")
    if again:
        p.kill()
    stdout, stderr = p.communicate(timeout=300)
    r = sc.st.note(Run(cmd, p.returncode, stdout, stderr))
    errs = [x for x in r.lines() if x.startswith("jpki notice run:")]
    sc.check(r.rc == 1 and len(errs) == 1 and "suspended during run" in errs[0]
             and "1 of 3 letters drawn" in errs[0],
             "the run ends at the file boundary: exit 1, one error line saying it was "
             "suspended during the run, 1 of 3 letters drawn", r)
    ns = sorted(sc.notices("expiring = '2027-02'"), key=lambda n: n["seq"])
    sc.check([n["state"] for n in ns] == ["printed", "selected", "selected"],
             "the first file's notice is printed, the other two still selected",
             [(n["seq"], n["state"]) for n in ns])
    sc.check(sorted(x.name for x in out.iterdir()) == ["jlis-001.pdf", "municipal-001.pdf"],
             "nothing after the first file was written (no manifest, no *.tmp)", tree(out))
    m, r2 = status_month(sc, now, "2027-02")
    sc.check(m is not None and m.get("state") == "unfinished",
             "notice status: 2027-02 unfinished", m or r2)
    sc.ok("notice resume", "notice", "resume", now=now)
    r = notice_run(sc, now, *args, "--json")
    sc.require(r.rc == 0, "after resume the same command finishes the run", r)
    j = r.json()
    sc.check(j.get("resumed") is True and j.get("printed") == 3,
             "... resuming it (resumed, 3 printed)", j)
    check_finished_run(sc, "the run suspended between files", j.get("run") or 0, out,
                       list(exp), 1)
    sc.check(sha256(first) == sum1, "municipal-001.pdf was not drawn again")
    ns2 = sorted(sc.notices("expiring = '2027-02'"), key=lambda n: n["seq"])
    sc.check([(n["id"], n["reservation_id"]) for n in ns2]
             == [(n["id"], n["reservation_id"]) for n in ns],
             "the same notices and reservation IDs as before the suspension")


def wait_stopped(p, limit=300):
    """True once process p has stopped itself (SIGSTOP), False when it
    exited first."""
    t0 = time.monotonic()
    while p.poll() is None and time.monotonic() - t0 < limit:
        try:
            with open(f"/proc/{p.pid}/stat", encoding="ascii") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "T":
                    return True
        except (OSError, IndexError):
            pass
        time.sleep(0.01)
    return False


# ---------------------------------------------------------------- letters

def check_fonts(sc, path):
    cp = subprocess.run(["pdffonts", str(path)], capture_output=True, timeout=60)
    lines = cp.stdout.decode("utf-8", "replace").splitlines()
    if cp.returncode != 0 or len(lines) < 3:
        return sc.check(False, f"pdffonts {path.name}", cp)
    col = lines[0].find("emb")
    fonts = [(ln[:36].strip(), ln[col:col + 3]) for ln in lines[2:] if ln.strip()]
    return sc.check(fonts and all(e == "yes" for _, e in fonts),
                    f"{path.name}: every font is embedded ({len(fonts)} fonts)", fonts)


def sc_letters(sc):
    l1 = sc.person("adult-postal", "1980-01-26", postal="171-8422").issue()
    l2 = sc.person("minor-card", "2011-01-09", postal="170-0013").issue()
    l3 = sc.person("adult-no-postal", "1970-01-31").issue()
    l4 = sc.person("leak-check", "1971-02-11").issue()
    now = at("2026-11-15")
    exp, _ = plan(sc.people, 2027, 1, jst_day(now), set())
    sc.require(exp.get(l1.id, ("",))[0] == "cert" and exp.get(l2.id, ("",))[0] == "card"
               and l3.id in exp and l4.id not in exp, "(model) 2027-01: two cert notices, one "
               "card notice")
    sc.check(wareki(dt.date(2019, 5, 1)) == "令和元年5月1日"
             and wareki(dt.date(2019, 4, 30)) == "平成31年4月30日"
             and wareki(dt.date(2027, 1, 26)) == "令和9年1月26日",
             "(self-test) 和暦: 令和元年5月1日, 平成31年4月30日, 令和9年1月26日")
    r = notice_run(sc, now, "--json", "--base-url", BASE_URL)
    sc.require(r.rc == 0, "notice run --base-url https://jpki.example.jp exits 0", r)
    out = Path(r.json()["out"])
    mun, jl = out / "municipal-001.pdf", out / "jlis-001.pdf"
    for p in (mun, jl):
        prefix = sc.st.dir / f"render-{p.stem}"
        cp = subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(p),
                             str(prefix)], capture_output=True, timeout=120)
        pngs = list(sc.st.dir.glob(f"render-{p.stem}*.png"))
        sc.check(cp.returncode == 0 and pngs and pngs[0].stat().st_size > 0,
                 f"{p.name}: pdftoppm renders page 1", cp.stderr[-300:])
        check_fonts(sc, p)
    ns = sorted(sc.notices(), key=lambda n: n["seq"])
    sc.check(pdf_pages(mun) == 2 * len(ns) and pdf_pages(jl) == len(ns),
             f"{len(ns)} letters: municipal {2 * len(ns)} pages, jlis {len(ns)}",
             (pdf_pages(mun), pdf_pages(jl)))
    for n in ns:
        p = sc.by_id(n["resident"])
        kind, expires, _ = exp[p.id]
        wf, wl = window(expires)
        k = n["seq"]
        front, back = pdf_text(mun, 2 * k - 1), pdf_text(mun, 2 * k)
        jtext = pdf_text(jl, k)
        f = squash(front)
        lab = f"{p.label} (letter {k})"
        sc.check(squash(p.name) in f, f"{lab}: front page has the name {p.name}")
        pat = (re.escape(wareki(wf)) + f"(（{WEEKDAYS[wf.weekday()]}）)?[～〜~－-]"
               + re.escape(wareki(wl)) + f"(（{WEEKDAYS[wl.weekday()]}）)?")
        sc.check(re.search(pat, f) is not None,
                 f"{lab}: front page has the renewal window {wareki(wf)} ～ {wareki(wl)}",
                 re.findall(r"令和\d+年\d+月\d+日[^～]{0,4}～令和\d+年\d+月\d+日", f))
        rid = n["reservation_id"]
        sc.check(rid in f and re.search(r"\s*".join(grouped(rid).split(" ")), front or ""),
                 f"{lab}: front page has the reservation ID {grouped(rid)}")
        b = squash(back)
        sc.check("照会書兼回答書" in b and squash(p.name) in b,
                 f"{lab}: the back page is the 照会書兼回答書 for {p.name}")
        jt = squash(jtext)
        sc.check(squash(p.name) in jt and wareki(expires) in jt,
                 f"{lab}: J-LIS page has the name and the expiry {wareki(expires)}")
        if kind == "card":
            sc.check(n["application_id"] and n["application_id"] in jt,
                     f"{lab}: J-LIS page of the card notice has the 23-digit application ID",
                     n["application_id"])
            sc.check(wareki(p.card_exp) in f,
                     f"{lab}: the card's expiry {wareki(p.card_exp)} is on the front page")
        png = sc.st.dir / f"qr-{k}"
        cp = subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", "-f",
                             str(2 * k - 1), "-l", str(2 * k - 1), str(mun), str(png)],
                            capture_output=True, timeout=120)
        zb = subprocess.run(["zbarimg", "-q", "--raw", f"{png}.png"], capture_output=True,
                            timeout=120) if cp.returncode == 0 else None
        codes = zb.stdout.decode("utf-8", "replace").split() if zb else []
        want = f"{BASE_URL}/reserve?id={rid}"
        sc.check(codes == [want], f"{lab}: the QR code on the front page reads {want}", codes)

    # A second run in the same process-free way: LeakSanitizer (sanitized
    # builds) must have nothing to say about drawing letters.
    now = at("2026-12-15")
    r = notice_run(sc, now, "--json")
    sc.check(r.rc == 0 and not SANITIZER.search(r.err) and r.json().get("printed") == 1,
             "a run drawing a letter (leak-check, 2027-02) exits 0 without a sanitizer "
             "report", r)


# ---------------------------------------------------------------- manifest

def sc_manifest(sc):
    odd = "東京都豊島区南池袋2丁目3番4号, サンシャイン\"101\"号室"
    people = [
        sc.person("postal-b", "1980-01-08", postal="171-8422").issue(),
        sc.person("no-postal-1", "1981-01-18").issue(),
        sc.person("postal-a", "1982-01-28", postal="170-0013", address=odd).issue(),
        sc.person("no-postal-2", "1983-01-19", address=ADDRS[0]).issue(),
        sc.person("minor-card", "2012-01-22", postal="171-0021").issue(),
        sc.person("dies-mid-run", "1984-01-12", postal="170-0005").issue(),
    ]
    dies = people[-1]
    now = at("2026-11-15")
    exp, _ = plan(sc.people, 2027, 1, jst_day(now), set())
    sc.require(sorted(exp) == sorted(p.id for p in people), "(model) all six in 2027-01")
    # print order: postal code (unknown last), address, resident
    order = [p.id for p in sorted(people, key=lambda p: (p.postal is None, p.postal or "",
                                                        p.address.encode(), p.id))]
    out = sc.st.dir / "out"
    out.mkdir()
    args = ("--out", "out", "--per-file", "2", "--base-url", BASE_URL)
    r = notice_run(sc, now, *args, env={"JPKI_FAILPOINT": "notice.after-claim"})
    crashed(sc, "run with JPKI_FAILPOINT=notice.after-claim", r)
    dies.end("decease", "2026-11-15")
    r = notice_run(sc, at("2026-11-15", 11), *args, "--json")
    sc.require(r.rc == 0, "the rerun (dies-mid-run deceased in between) finishes", r)
    j = r.json()
    sc.check(j.get("printed") == 5 and j.get("cancelled") == 1 and j.get("notices") == 6,
             "the rerun --json: 6 notices, 5 printed, 1 cancelled", j)
    ns = sorted(sc.notices(), key=lambda n: n["seq"])
    sc.check([n["resident"] for n in ns] == order,
             "seq follows postal order: postal code (unknown last), then address, then "
             "resident", f"got {[sc.label(n['resident']) for n in ns]}, "
             f"want {[sc.label(i) for i in order]}")
    nd = next((n for n in ns if n["resident"] == dies.id), None)
    sc.check(nd is not None and nd["state"] == "cancelled" and nd["cancel_reason"] == "deceased",
             "dies-mid-run's notice is cancelled (deceased), not printed",
             nd and (nd["state"], nd["cancel_reason"]))
    r = sc.jpki("notice", "verify-reservation", "--id", nd["reservation_id"] if nd else "0",
                "--birth", dies.birth, now=now)
    sc.check(r.rc == 1, "a cancelled notice's reservation ID does not verify (exit 1)", r)

    rows = manifest_rows(sc, out, "manifest")
    if rows is None:
        return
    printed = [n for n in ns if n["state"] == "printed"]
    sc.check([int(x["resident_id"]) for x in rows] == [n["resident"] for n in printed],
             "manifest rows: the printed notices in seq order, the cancelled one left out",
             [sc.label(int(x["resident_id"])) for x in rows])
    res_rows = {r_[0]: r_ for r_ in sc.st.rows(
        "SELECT id, name, postal_code, address FROM resident")}
    for row in rows:
        rid = int(row["resident_id"])
        p = sc.by_id(rid)
        n = next((n for n in ns if n["resident"] == rid), None)
        if p is None or n is None:
            sc.check(False, f"manifest row for an unexpected resident {rid}", row)
            continue
        kind, expires, _ = exp[rid]
        wf, wl = window(expires)
        sr = res_rows.get(str(rid))
        sc.check(row["notice_id"] == str(n["id"]) and row["kind"] == n["kind"] == kind
                 and row["reservation_id"] == n["reservation_id"],
                 f"{p.label}: notice_id, kind ({kind}) and reservation_id as stored", row)
        sc.check(row["name"] == p.name == (sr and sr[1]), f"{p.label}: name {p.name}",
                 (row["name"], sr))
        pa = row["postal_address"]
        if p.postal:
            good = pa.startswith("〒" + p.postal) and pa[len(p.postal) + 1:].strip() == p.address
            want = f"〒{p.postal} {p.address}"
        else:
            good, want = pa == p.address, p.address
        sc.check(good, f"{p.label}: postal_address {want!r}", pa)
        sc.check((row["window_first"], row["window_last"]) == (wf.isoformat(), wl.isoformat()),
                 f"{p.label}: window {wf} to {wl} (expiry {expires})",
                 (row["window_first"], row["window_last"]))
        r = sc.jpki("notice", "show", n["id"], "--json", now=now)
        s = r.json()
        sc.check(r.rc == 0 and s.get("resident") == rid and s.get("reservation_id")
                 == row["reservation_id"] and s.get("window_first") == wf.isoformat()
                 and s.get("window_last") == wl.isoformat() and s.get("state") == "printed"
                 and s.get("kind") == kind and s.get("expires") == expires.isoformat(),
                 f"{p.label}: notice show {n['id']} --json agrees", r)

    # summary.json
    try:
        summ = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        sc.check(False, "summary.json parses", e)
        return
    sc.check(True, "summary.json parses")
    kinds = {"cert": sum(1 for x in rows if x["kind"] == "cert"),
             "card": sum(1 for x in rows if x["kind"] == "card")}
    want = {"run": j.get("run"), "expiring": "2027-01", "run_on": "2026-11-15",
            "state": "done", "notices": 6, "printed": len(rows), "cancelled": 1,
            "cancelled_by_reason": {"deceased": 1}, "by_kind": kinds, "expired_before": 0,
            "per_file": 2, "manifest": "manifest.csv", "reserve_base": BASE_URL}
    got = {k: summ.get(k) for k in want}
    sc.check(got == want, "summary.json counts agree with the manifest and the store",
             {k: (got[k], want[k]) for k in want if got[k] != want[k]})
    files = summ.get("files") or []
    names = sorted(f.get("name", "") for f in files)
    on_disk = sorted(p.name for p in out.glob("*.pdf"))
    sc.check(names == on_disk and len(names) == 6,
             "summary.json lists exactly the PDFs on disk (3 per series)", (names, on_disk))
    bad = []
    for f in files:
        p = out / f.get("name", "?")
        if not p.exists():
            bad.append((f.get("name"), "missing"))
            continue
        if f.get("sha256") != sha256(p):
            bad.append((p.name, "sha256"))
        if f.get("pages") != pdf_pages(p):
            bad.append((p.name, "pages", f.get("pages"), pdf_pages(p)))
        series = "jlis" if p.name.startswith("jlis") else "municipal"
        if f.get("series") != series or f.get("pages") != f.get("letters", -1) * (
                1 if series == "jlis" else 2):
            bad.append((p.name, "series/letters", f))
    sc.check(not bad, "summary.json files: sha256 recomputed, pages (pdfinfo), series and "
             "letters agree", bad)
    mun_letters = sum(f.get("letters", 0) for f in files if f.get("series") == "municipal")
    sc.check(mun_letters == len(rows), "summary.json: the municipal files hold every printed "
             "letter once", mun_letters)


# ---------------------------------------------------------------- reservation

def sc_reservation(sc):
    people = [sc.person(f"res-{d:02d}", f"19{75 + i}-01-{d:02d}").issue()
              for i, d in enumerate((4, 13, 21))]
    now = at("2026-11-15")
    r = notice_run(sc, now, "--json")
    sc.require(r.rc == 0, "notice run exits 0", r)
    ns = sc.notices()
    sc.require(len(ns) == 3, "three notices", len(ns))
    sc.check(damm("572") == 4 and damm_ok("5724"), "(self-test) Damm: 572 -> 4")
    rids = [n["reservation_id"] for n in ns]
    sc.check(all(len(x) == 16 and x.isdigit() and damm_ok(x) for x in rids),
             "reservation IDs: 16 digits with a good Damm check digit", rids)
    sc.check(len(set(rids)) == len(rids), "reservation IDs are unique", rids)
    nums = sorted(int(x[:15]) for x in rids)
    sc.check(all(b - a > 10 ** 6 for a, b in zip(nums, nums[1:])),
             "reservation IDs are not sequential (far apart)", rids)

    n0 = ns[0]
    p0 = sc.by_id(n0["resident"])
    rid = n0["reservation_id"]
    for form, text in (("as stored", rid), ("with spaces", grouped(rid)),
                       ("with hyphens", grouped(rid).replace(" ", "-")),
                       ("in full-width digits", fullwidth(rid)),
                       ("full-width with spaces", fullwidth(grouped(rid)))):
        r = sc.jpki("notice", "verify-reservation", "--id", text, "--birth", p0.birth,
                    "--json", now=now)
        sc.check(r.rc == 0 and r.json().get("id") == n0["id"]
                 and r.json().get("resident") == p0.id,
                 f"verify-reservation, ID {form} ({text}): exit 0, notice {n0['id']}", r)
    wrong = sc.jpki("notice", "verify-reservation", "--id", rid, "--birth",
                    p0.birth + dt.timedelta(days=1), now=now)
    sc.check(wrong.rc == 1 and one_line(wrong), "wrong birth date: exit 1, one line", wrong)
    rng = random.Random(20261115)
    while True:
        unknown = with_check(str(rng.randrange(10 ** 14, 10 ** 15)))
        if unknown not in rids:
            break
    r = sc.jpki("notice", "verify-reservation", "--id", unknown, "--birth", p0.birth, now=now)
    sc.check(r.rc == 1 and r.err == wrong.err and r.out == wrong.out,
             f"a valid but unknown ID ({unknown}): exit 1 with the same message as a wrong "
             "birth date", (r, wrong))
    wj = sc.jpki("notice", "verify-reservation", "--id", rid, "--birth",
                 p0.birth + dt.timedelta(days=1), "--json", now=now)
    uj = sc.jpki("notice", "verify-reservation", "--id", unknown, "--birth", p0.birth,
                 "--json", now=now)
    sc.check(wj.rc == uj.rc == 1 and wj.out == uj.out and wj.err == uj.err,
             "... and the same with --json", (wj, uj))
    # every single-digit change
    for pos in range(16):
        subs = rng.sample([c for c in "0123456789" if c != rid[pos]], 3)
        bad = []
        for c in subs:
            t = rid[:pos] + c + rid[pos + 1:]
            r = sc.jpki("notice", "verify-reservation", "--id", t, "--birth", p0.birth,
                        now=now)
            if r.rc != 2 or not one_line(r):
                bad.append((t, r.rc, r.err.strip()))
        sc.check(not bad, f"digit {pos + 1} changed ({', '.join(subs)}): exit 2 (check digit)",
                 bad)
    n_swaps = 0
    for pos in range(15):
        if rid[pos] == rid[pos + 1]:
            continue
        n_swaps += 1
        t = rid[:pos] + rid[pos + 1] + rid[pos] + rid[pos + 2:]
        r = sc.jpki("notice", "verify-reservation", "--id", t, "--birth", p0.birth, now=now)
        sc.check(r.rc == 2 and one_line(r), f"digits {pos + 1} and {pos + 2} swapped ({t}): "
                 "exit 2", r)
    sc.check(n_swaps > 0, f"(self-test) {n_swaps} adjacent transpositions tried")
    for t, what in ((rid[:15], "15 digits"), (rid + "0", "17 digits"),
                    (with_check(rid[:14]), "15 digits with a good check digit"),
                    (rid[:8] + "x" + rid[9:], "a letter")):
        r = sc.jpki("notice", "verify-reservation", "--id", t, "--birth", p0.birth, now=now)
        sc.check(r.rc == 2 and one_line(r), f"an ID of {what}: exit 2", r)
    # the other notices verify with their own birth dates only
    for n in ns[1:]:
        p = sc.by_id(n["resident"])
        r = sc.jpki("notice", "verify-reservation", "--id", n["reservation_id"], "--birth",
                    p.birth, "--json", now=now)
        sc.check(r.rc == 0 and r.json().get("id") == n["id"],
                 f"{p.label}: its own ID and birth date verify", r)
        r = sc.jpki("notice", "verify-reservation", "--id", n["reservation_id"], "--birth",
                    p0.birth, now=now)
        sc.check(r.rc == 1 and r.err == wrong.err,
                 f"{p.label}: its ID with another resident's birth date: exit 1, same message",
                 r)


# ---------------------------------------------------------------- bad input

def sc_bad_input(sc):
    p = sc.person("jan-05", "1980-01-05").issue()
    now = at("2026-11-15")
    r = notice_run(sc, now, "--json")
    sc.require(r.rc == 0, "a first run (so that the tables hold rows) exits 0", r)
    done_dir = Path(r.json()["out"])
    rid = sc.notices()[0]["reservation_id"]
    (sc.st.dir / "empty").mkdir()
    cases = [
        ("--expiring 2027-13", ("notice", "run", "--expiring", "2027-13")),
        ("--expiring 2027-1", ("notice", "run", "--expiring", "2027-1")),
        ("--expiring 2027-02 (too far ahead on 2026-11-15)",
         ("notice", "run", "--expiring", "2027-02", "--out", "empty")),
        ("--expiring 2026-10 (past)", ("notice", "run", "--expiring", "2026-10", "--out",
                                       "empty")),
        ("--out /nonexistent", ("notice", "run", "--expiring", "2026-12", "--out",
                                "/nonexistent")),
        ("--per-file 0", ("notice", "run", "--per-file", "0")),
        ("--per-file x", ("notice", "run", "--per-file", "x")),
        ("--per-file -1", ("notice", "run", "--per-file", "-1")),
        ("--base-url ftp://x", ("notice", "run", "--base-url", "ftp://x")),
        ("--base-url with a trailing slash", ("notice", "run", "--base-url",
                                              "https://x.example/")),
        ("show abc", ("notice", "show", "abc")),
        ("show 999999 (unknown)", ("notice", "show", "999999")),
        ("show 0", ("notice", "show", "0")),
        ("verify-reservation without --birth", ("notice", "verify-reservation", "--id", rid)),
        ("verify-reservation --birth 2026-02-30", ("notice", "verify-reservation", "--id",
                                                   rid, "--birth", "2026-02-30")),
        ("a new run into another run's directory (manifest.csv there)",
         ("notice", "run", "--expiring", "2026-12", "--out", str(done_dir))),
    ]
    for what, args in cases:
        snap, files = sc.snapshot(), tree(sc.st.dir / "var")
        a = list(args)
        if a[1] == "run":
            a[2:2] = ["--office", OFFICE]
        r = sc.jpki(*a, now=now)
        sc.check(r.rc == 2 and one_line(r) and "Sanitizer" not in r.err,
                 f"{what}: exit 2, one line on stderr", r)
        sc.check(sc.snapshot() == snap and tree(sc.st.dir / "var") == files,
                 f"{what}: notice tables, audit log and var/notices unchanged")
    r = sc.jpki("notice", "show", sc.notices()[0]["id"], now=now)
    sc.check(r.rc == 0, "(control) notice show of a real notice exits 0", r)
    r = sc.jpki("notice", "run", "--office", OFFICE, "--expiring", "2026-11", "--dry-run",
                "--json", now=now)
    sc.check(r.rc == 0, "(control) --expiring of the current month is accepted (dry run)", r)


# ---------------------------------------------------------------- main

SCENARIOS = {
    "select": sc_select,
    "idempotent": sc_idempotent,
    "suspend": sc_suspend,
    "letters": sc_letters,
    "manifest": sc_manifest,
    "reservation": sc_reservation,
    "bad-input": sc_bad_input,
}
OFFICE = None


def run_scenario(backend, name):
    t0 = time.monotonic()
    try:
        sc = Sc(name, backend.new_store(name))
    except Exception as e:  # noqa: BLE001
        FAILURES.append(f"[{name}] store setup: {e}")
        say(f"  FAIL  [{name}] store setup: {e}")
        return name, 0, time.monotonic() - t0
    try:
        SCENARIOS[name](sc)
    except Abort as e:
        FAILURES.append(f"[{name}] aborted: {e}")
        say(f"  FAIL  [{name}] aborted: {e}")
    except Exception:  # noqa: BLE001
        tb = traceback.format_exc()
        FAILURES.append(f"[{name}] crashed: {tb}")
        say(f"  FAIL  [{name}] the test itself crashed:\n{tb}")
    rep = sc.st.reports
    sc.check(not rep, f"no sanitizer report from any of the scenario's {sc.st.runs} jpki runs",
             rep[:3])
    t = time.monotonic() - t0
    say(f"  done  [{name}] {sc.checks} checks, {sc.failed} failed, {t:.1f} s")
    return name, sc.checks, t


def main():
    global JPKI, SRC, OFFICE
    ap = argparse.ArgumentParser()
    ap.add_argument("jpki")
    ap.add_argument("src")
    ap.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--only", default="")
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    JPKI, SRC = os.path.abspath(a.jpki), os.path.abspath(a.src)
    OFFICE = os.path.join(SRC, "data", "offices", "toshima.ini")
    only = [n for n in a.only.split(",") if n]
    unknown = [n for n in only if n not in SCENARIOS]
    if unknown:
        print(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(SCENARIOS)}",
              file=sys.stderr)
        return 2
    names = [n for n in SCENARIOS if not only or n in only]
    for tool in ("pdftotext", "pdftoppm", "pdfinfo", "pdffonts", "zbarimg"):
        if shutil.which(tool) is None:
            print(f"{tool} not found (poppler-utils, zbar-tools)", file=sys.stderr)
            return 2
    t0 = time.monotonic()
    results = []
    with tempfile.TemporaryDirectory(prefix="jpkinotice") as tmp:
        pg = backend = None
        try:
            if a.backend == "postgresql":
                os.chmod(tmp, 0o755)
                sys.path.insert(0, os.path.join(SRC, "tests", "pg"))
                sys.dont_write_bytecode = True
                from pgserver import PgServer, find_bindir  # noqa: PLC0415
                bindir = find_bindir()
                psql = os.path.join(bindir, "psql") if bindir else shutil.which("psql")
                url = os.environ.get("JPKI_TEST_STORE", "")
                if url.startswith(("postgresql://", "postgres://")):
                    say(f"notice tests on postgresql: a database per scenario on {url}")
                else:
                    pg = PgServer().__enter__()
                    url = pg.url("postgres")
                    say(f"notice tests on postgresql: a throw-away server, {url}")
                backend = PgBackend(tmp, url, psql)
            else:
                backend = SqliteBackend(tmp)
            say(f"notice tests on {a.backend}: {', '.join(names)}")
            backend.template()
            say(f"  info  template store ready after {time.monotonic() - t0:.1f} s")
            with concurrent.futures.ThreadPoolExecutor(max(1, a.jobs)) as ex:
                results = list(ex.map(lambda n: run_scenario(backend, n), names))
        except Abort as e:
            FAILURES.append(f"setup: {e}")
            say(f"  FAIL  setup: {e}")
        finally:
            if isinstance(backend, PgBackend) and pg is None:
                backend.drop_all()
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
