#!/usr/bin/python3
"""jpkid's HTTP API end to end, against a throw-away system of its own.

usage: /usr/bin/python3 test_api.py JPKI JPKID SOURCE_DIR

It makes a store in a temporary directory (jpki init, demo seed --residents 200
--seed 7, one staff account per role and a few more), starts jpkid on a free
port of 127.0.0.1 with --session-idle 3 --login-limit 3 --login-window 60 and
its own access log, and stops it with SIGTERM at the end (exit 0, "stopped",
no AddressSanitizer or UBSan report on its stderr).

What is checked (every expected value is computed here or taken from the jpki
CLI run as an oracle, never from the server's own answers):
  routes     every route of `jpkid --routes` is hit at least once; the paths of
             web/openapi.json cover the "api" routes (same x-role, the session
             and CSRF schemes) and name nothing the server does not route;
             every JSON answer is validated against the document's schema for
             its operation and status (an undocumented status fails)
  public     renewal windows (month ends, Feb 29, each state), 和暦, the guide
             (expires, or birth+issued: the 5th birthday after the issue),
             holidays, office, open days, bring, cert/card expiry and
             reservable against `jpki ... --json`
  sessions   login cookie attributes, wrong password, rate limits per account
             and per address (429 + Retry-After), logout, idle expiry, CSRF on
             every POST route, roles, no session
  staff      search (id, birth date, kana) against SQL on the store, the
             resident detail against the store, renew (6th birthday, old serials
             revoked superseded, OCSP through the server), wrong and blocked
             PINs, PIN reset, renew before the window (refused, then early), a
             fresh issuance, events (move, rename, decease, card lost) in OCSP
             and the CRLs, revoke (OCSP at once), a revocation by another
             process (the watcher), expiry stats, staff accounts
  bad input  4xx with a JSON error body and the store unchanged (row counts,
             the audit log's last seq, hashes of residents, cards and staff)
  relying    openssl ocsp (POST with nonce, verify OK, good/revoked), RFC 5019
  parties    GET with curl (percent-encoded, raw with '/', URL-safe base64),
             caching headers and the cache counter, the auth responder,
             malformed requests; CRLs (openssl verify, serials = the store's,
             ETag/304, shards); CA certificates (PEM = DER = the store's)
  protocol   keep-alive and pipelining, 413 closes the connection, 414, deep
             JSON, HEAD, OPTIONS, the headers every answer must carry
             (security headers; JSON and no-store under /api/v1/), two renewals
             of one resident at once, 8 concurrent wrong logins against the
             rate limit
  ops        /healthz, /metrics (Prometheus text; request counters and route
             labels move)
  server 2   a second jpkid on the same store (--session-max 5,
             --login-window 5, --trust-proxy 127.0.0.1): absolute session
             expiry, the end of the login window, X-Forwarded-For, and its
             revocations reaching the first one's OCSP
  stop       a renewal in flight at SIGTERM finishes; new connections refused
  logs       one access-log line per request; no password or PIN in the access
             log, jpkid's stderr or the audit log; no name or address in the
             audit log, no search text in the access log
Prints one line per failure and a closing "N passed, M failed" line; exit 1 on
any failure. The store is kept in /tmp when something failed.
"""
import base64
import calendar
import csv
import datetime as dt
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509 import ocsp

if len(sys.argv) != 4:
    sys.exit(__doc__)
JPKI, JPKID, SRC = (os.path.abspath(a) for a in sys.argv[1:4])
OFFICE = os.path.join(SRC, "data/offices/toshima.ini")
OPENAPI = os.path.join(SRC, "web/openapi.json")
T0 = time.monotonic()
JST = dt.timezone(dt.timedelta(hours=9))

# Passwords and PINs: none may show up in a log.
PW = {"counter1": "Kw7-counter-pass", "sup1": "Kw7-supervisor-pass",
      "admin1": "Kw7-admin-pass-x", "ratelim": "Kw7-ratelimit-pw",
      "ratelim2": "Kw7-ratelimit-pw2",
      "clerk2": "Kw7-clerk-two-pw"}
SIGN_PIN, AUTH_PIN = "ABC123", "1234"
NEW_AUTH_PIN, NEW_SIGN_PIN, WRONG_AUTH = "4321", "QWE789", "9999"
SECRETS = list(PW.values()) + [SIGN_PIN, NEW_SIGN_PIN]

# ---------------------------------------------------------------- checks

PASSED = 0
FAILED = []
SCHEMA_OK = 0


def check(cond, what, detail=""):
    global PASSED
    if cond:
        PASSED += 1
    else:
        FAILED.append(what)
        print(f"FAIL {what}" + (f": {detail}" if detail != "" else ""), flush=True)
    return bool(cond)


def eq(got, want, what):
    return check(got == want, what, f"got {got!r}, want {want!r}")


def section(name):
    print(f"-- {name} ({time.monotonic() - T0:.1f} s)", flush=True)


# ---------------------------------------------------------------- dates


def d(s):
    return dt.date.fromisoformat(s)


def iso(x):
    return x.isoformat() if x else None


def today_jst():
    return dt.datetime.now(JST).date()


def add_months(x, n):
    y, m = divmod(x.month - 1 + n, 12)
    y += x.year
    m += 1
    return dt.date(y, m, min(x.day, calendar.monthrange(y, m)[1]))


def window(expires):
    """Opens the day after the date 3 months before (month-end clamped)."""
    return add_months(expires, -3) + dt.timedelta(days=1), expires


def window_state(expires, on):
    first, last = window(expires)
    return "not_yet" if on < first else "open" if on <= last else "expired"


def birthday(birth, year):
    if (birth.month, birth.day) == (2, 29) and not calendar.isleap(year):
        return dt.date(year, 2, 28)  # the default Feb 29 policy (feb28)
    return dt.date(year, birth.month, birth.day)


def nth_birthday_after(birth, after, n):
    """The nth birthday strictly after `after`."""
    y = after.year
    if birthday(birth, y) <= after:
        y += 1
    return birthday(birth, y + n - 1)


ERAS = [(dt.date(2019, 5, 1), "令和", 2018), (dt.date(1989, 1, 8), "平成", 1988),
        (dt.date(1926, 12, 25), "昭和", 1925), (dt.date(1912, 7, 30), "大正", 1911),
        (dt.date(1873, 1, 1), "明治", 1867)]


def wareki(x):
    if x is None:
        return None, None
    for start, name, off in ERAS:
        if x >= start:
            n = x.year - off
            return f"{name}{'元' if n == 1 else n}年{x.month}月{x.day}日", name
    return f"{x.year}年{x.month}月{x.day}日", None


def wk(x):
    return wareki(d(x) if isinstance(x, str) else x)[0]


WEEKDAYS = "月火水木金土日"


def parse_instant(s):
    return dt.datetime.fromisoformat(s)


# ---------------------------------------------------------------- processes

ENV = {k: v for k, v in os.environ.items()
       if k not in ("JPKI_NOW", "JPKI_STORE", "JPKI_KEYS", "JPKI_CA_PASSPHRASE")}
SUBPROCESS_REQUESTS = 0  # HTTP requests made by curl and openssl


def run(args, stdin=None, check_rc=True, env=None):
    p = subprocess.run(args, input=stdin, capture_output=True, text=True,
                       env=env or ENV, timeout=120)
    if check_rc and p.returncode != 0:
        raise RuntimeError(f"{args!r} exit {p.returncode}: {p.stderr.strip()}")
    return p


def cli(*args, check_rc=False):
    return run([JPKI, *args], check_rc=check_rc)


def cli_json(*args):
    p = cli(*args, "--json")
    try:
        return p.returncode, json.loads(p.stdout) if p.stdout.strip() else None
    except json.JSONDecodeError:
        return p.returncode, None


# ---------------------------------------------------------------- routes

ROUTES = []  # (method, pattern, role, api)
HIT = set()


def load_routes():
    out = run([JPKID, "--routes"]).stdout
    for line in out.splitlines():
        m, pat, role, api = line.split()
        ROUTES.append((m, pat, role, api == "api"))


def route_match(pattern, path):
    """daemon/server.c's match(): {x} takes one segment, * the rest."""
    i = j = 0
    while i < len(pattern) and j < len(path):
        c = pattern[i]
        if c in "{*":
            rest = c == "*"
            pe = i + 1 if rest else pattern.index("}", i) + 1
            if rest:
                ue = len(path)
            else:
                ue = path.find("/", j)
                if ue < 0:
                    ue = len(path)
            if ue == j:
                return False
            i, j = pe, ue
            continue
        if c != path[j]:
            return False
        i += 1
        j += 1
    return i == len(pattern) and j == len(path)


def pick_route(method, path):
    """The route the server takes for a decoded path: (method, pattern),
    ("405", allow) or None."""
    reserved = path.startswith(("/api/", "/ocsp/", "/crl/", "/ca/"))
    allow = []
    for m, pat, _role, _api in ROUTES:
        if reserved and pat in ("/*", "/"):
            continue
        if not route_match(pat, path):
            continue
        if m == method or (m == "GET" and method == "HEAD"):
            return (m, pat)
        if m not in allow:
            allow.append(m)
    return ("405", allow) if allow else None


def record(method, target):
    path = urllib.parse.unquote(target.split("?", 1)[0])
    r = pick_route(method, path)
    if r and r[0] != "405":
        HIT.add(r)
    return r


# ---------------------------------------------------------------- openapi

API = json.load(open(OPENAPI, encoding="utf-8"))
SCHEMA_FAILS = []


def resolve(node):
    while isinstance(node, dict) and "$ref" in node:
        cur = API
        for part in node["$ref"].lstrip("#/").split("/"):
            cur = cur[part]
        node = cur
    return node


def validate(schema, v, where, errs):
    schema = resolve(schema)
    if v is None:
        if not schema.get("nullable"):
            errs.append(f"{where}: null")
        return
    if "allOf" in schema:
        for s in schema["allOf"]:
            validate(s, v, where, errs)
        return
    if "oneOf" in schema:
        ok = 0
        for s in schema["oneOf"]:
            e = []
            validate(s, v, where, e)
            ok += not e
        if ok != 1:
            errs.append(f"{where}: matches {ok} of oneOf")
        return
    t = schema.get("type")
    types = {"object": dict, "array": list, "string": str, "boolean": bool}
    if t == "integer":
        good = isinstance(v, int) and not isinstance(v, bool)
    elif t == "number":
        good = isinstance(v, (int, float)) and not isinstance(v, bool)
    elif t:
        good = isinstance(v, types[t])
    else:
        good = True
    if not good:
        errs.append(f"{where}: {v!r:.60} is not {t}")
        return
    if "enum" in schema and v not in schema["enum"]:
        errs.append(f"{where}: {v!r:.60} not in {schema['enum']}")
    if isinstance(v, str):
        if "pattern" in schema and not re.search(schema["pattern"], v):
            errs.append(f"{where}: {v!r:.60} does not match {schema['pattern']}")
        if len(v) < schema.get("minLength", 0) or len(v) > schema.get("maxLength", 1 << 30):
            errs.append(f"{where}: length {len(v)}")
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if "minimum" in schema and v < schema["minimum"]:
            errs.append(f"{where}: {v} < {schema['minimum']}")
        if "maximum" in schema and v > schema["maximum"]:
            errs.append(f"{where}: {v} > {schema['maximum']}")
    if isinstance(v, list):
        if len(v) < schema.get("minItems", 0) or len(v) > schema.get("maxItems", 1 << 30):
            errs.append(f"{where}: {len(v)} items")
        for k, x in enumerate(v):
            validate(schema.get("items", {}), x, f"{where}[{k}]", errs)
    if isinstance(v, dict):
        props = schema.get("properties", {})
        for k in schema.get("required", []):
            if k not in v:
                errs.append(f"{where}: {k} missing")
        for k, x in v.items():
            if k in props:
                validate(props[k], x, f"{where}.{k}", errs)
            elif schema.get("additionalProperties", True) is False:
                errs.append(f"{where}: undocumented field {k}")


def template_regex(tpl):
    out = ""
    for part in re.split(r"(\{[^}]+\})", tpl):
        if part.startswith("{"):
            out += ".+" if part == "{request}" else "[^/]+"
        else:
            out += re.escape(part)
    return re.compile("^" + out + "$")


API_PATHS = [(template_regex(p), p) for p in API["paths"]]


def openapi_op(method, path):
    for rx, tpl in API_PATHS:
        if rx.match(path):
            o = API["paths"][tpl].get(method.lower())
            if o:
                return tpl, o
    return None, None


def validate_answer(method, target, status, ctype, body):
    global SCHEMA_OK
    if not ctype.startswith("application/json") or method == "HEAD" or not body:
        return
    path = urllib.parse.unquote(target.split("?", 1)[0])
    what = f"{method} {target[:80]} {status}"
    try:
        doc = json.loads(body)
    except ValueError:
        SCHEMA_FAILS.append(f"{what}: not JSON")
        return
    tpl, o = openapi_op("GET" if method == "HEAD" else method, path)
    if o is None:
        schema = {"$ref": "#/components/schemas/Error"} if status >= 400 else None
        if schema is None:
            if path.startswith("/api/"):
                SCHEMA_FAILS.append(f"{what}: no operation in openapi.json")
            return
    else:
        resp = o["responses"].get(str(status)) or o["responses"].get("default")
        if resp is None:
            SCHEMA_FAILS.append(f"{what}: status not documented for {method} {tpl}")
            return
        resp = resolve(resp)
        try:
            schema = resp["content"]["application/json"]["schema"]
        except KeyError:
            SCHEMA_FAILS.append(f"{what}: no JSON schema documented")
            return
    errs = []
    validate(schema, doc, "$", errs)
    if errs:
        SCHEMA_FAILS.append(f"{what}: " + "; ".join(errs[:4]))
    else:
        SCHEMA_OK += 1


# ---------------------------------------------------------------- HTTP

PORT = None
REQUESTS = 0  # requests this script sent itself (for the access log)
COUNT_LOCK = threading.Lock()


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body
        self._json = None

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def json(self):
        if self._json is None:
            try:
                self._json = json.loads(self.body)
            except ValueError:
                self._json = {}
        return self._json

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


def request(method, target, body=None, headers=None, src=None, timeout=60, port=None):
    """One request on a fresh connection; target is sent as is."""
    global REQUESTS
    port = port or PORT
    headers = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        body = body.encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                      source_address=(src, 0) if src else None)
    conn.connect()
    if port == PORT:  # the second server logs nothing
        with COUNT_LOCK:
            REQUESTS += 1
    record(method, target)
    try:
        conn.putrequest(method, target, skip_host=False, skip_accept_encoding=True)
        if body is not None and "Transfer-Encoding" not in headers:
            headers["Content-Length"] = str(len(body))
        for k, v in headers.items():
            conn.putheader(k, v)
        try:
            if body is not None and headers.get("Transfer-Encoding") == "chunked":
                conn.endheaders()
                for k in range(0, len(body), 8192):
                    part = body[k:k + 8192]
                    conn.send(b"%x\r\n%s\r\n" % (len(part), part))
                conn.send(b"0\r\n\r\n")
            else:
                conn.endheaders(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early (413); read that answer
        r = conn.getresponse()
        data = r.read()
        resp = Resp(r.status, r.getheaders(), data)
    finally:
        conn.close()
    validate_answer(method, target, resp.status, resp.header("Content-Type") or "",
                    resp.body)
    invariants(method, target, resp)
    return resp


INVARIANT_FAILS = []
INVARIANT_OK = 0


def invariants(method, target, resp):
    """What docs/HTTP-API.md says of every answer: the security headers;
    under /api/v1/ JSON (UTF-8) and Cache-Control no-store."""
    global INVARIANT_OK
    path = urllib.parse.unquote(target.split("?", 1)[0])
    bad = [h for h, v in (("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
                          ("Referrer-Policy", "no-referrer")) if resp.header(h) != v]
    # A run's files download as what they are (PDF, CSV, JSON).
    download = resp.status == 200 and re.fullmatch(r"/api/v1/notices/runs/\d+/files/[^/]+", path)
    if path.startswith("/api/v1/") and resp.status != 304:
        if not download and resp.header("Content-Type") != "application/json; charset=utf-8":
            bad.append(f"Content-Type {resp.header('Content-Type')}")
        want = "no-cache" if path == "/api/v1/openapi.json" and resp.status == 200 else "no-store"
        if resp.header("Cache-Control") != want:
            bad.append(f"Cache-Control {resp.header('Cache-Control')} (want {want})")
    if bad:
        INVARIANT_FAILS.append(f"{method} {target[:80]} {resp.status}: {', '.join(bad)}")
    else:
        INVARIANT_OK += 1


def get(target, **kw):
    return request("GET", target, **kw)


def q(path, **params):
    return path + "?" + urllib.parse.urlencode(params)


def is_error(r, status, code=None, what=""):
    """A 4xx/5xx answer with the JSON error body."""
    j = r.json
    ok = check(r.status == status, f"{what}: status {status}", r)
    ok &= check(isinstance(j.get("error"), str) and isinstance(j.get("message"), str)
                and isinstance(j.get("message_en"), str) and j.get("message"),
                f"{what}: JSON error body", r)
    ok &= check((r.header("Content-Type") or "").startswith("application/json"),
                f"{what}: JSON content type", r.header("Content-Type"))
    if code is not None:
        ok &= eq(j.get("error"), code, f"{what}: error code")
    # `message` is what the pages show: Japanese (docs/HTTP-API.md).
    ok &= check(re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", j.get("message") or ""),
                f"{what}: the message is Japanese", j)
    return ok


class Staff:
    """A staff member's session: the cookie, the CSRF token and a re-login
    when the idle timeout (3 s here) may have passed."""

    def __init__(self, user, role=None, src=None, port=None):
        self.user, self.role, self.src, self.port = user, role, src, port
        self.cookie = self.csrf = None
        self.last = 0.0

    def login(self):
        t = time.monotonic()
        r = request("POST", "/api/v1/login", {"user": self.user, "password": PW[self.user]},
                    src=self.src, port=self.port)
        if r.status == 200:
            c = r.header("Set-Cookie") or ""
            self.cookie = c.split(";", 1)[0]
            self.csrf = r.json.get("csrf")
            self.last = t
        return r

    def ensure(self):
        if self.cookie is None or time.monotonic() - self.last > 1.0:
            r = self.login()
            if r.status != 200:
                raise RuntimeError(f"login {self.user}: {r}")

    def headers(self, csrf=True):
        h = {"Cookie": self.cookie}
        if csrf is True:
            h["X-CSRF-Token"] = self.csrf
        elif csrf:
            h["X-CSRF-Token"] = csrf
        return h

    # The server counts idle time from the start of a request (a slow one,
    # such as a renewal under ASan, eats into it): so does this.
    def get(self, target, ensure=True):
        if ensure:
            self.ensure()
        t = time.monotonic()
        r = request("GET", target, headers=self.headers(csrf=False), src=self.src,
                    port=self.port)
        self.last = t
        return r

    def post(self, target, body=None, csrf=True, ensure=True, headers=None):
        if ensure:
            self.ensure()
        h = self.headers(csrf)
        h.update(headers or {})
        t = time.monotonic()
        r = request("POST", target, body, headers=h, src=self.src, port=self.port)
        self.last = t
        return r


# ---------------------------------------------------------------- the store

DB = None
FP_TABLES = ["audit_log", "certificate", "revocation", "resident", "card", "holder_cert",
             "resident_event", "staff", "intent", "ocsp_response", "crl_number"]


def db():
    c = sqlite3.connect(f"file:{DB}?mode=ro", uri=True, timeout=30)
    return c


def sql(query, *args):
    c = db()
    try:
        return c.execute(query, args).fetchall()
    finally:
        c.close()


def sql1(query, *args):
    rows = sql(query, *args)
    return rows[0][0] if rows else None


def fingerprint():
    c = db()
    try:
        fp = {t: c.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in FP_TABLES}
        fp["audit_seq"] = c.execute("SELECT coalesce(max(seq), 0) FROM audit_log").fetchone()[0]
        for t, order in (("resident", "id"), ("card", "serial"), ("staff", "id")):
            h = hashlib.sha256()
            for row in c.execute(f"SELECT * FROM {t} ORDER BY {order}"):
                h.update(repr(row).encode())
            fp[t + "_hash"] = h.hexdigest()[:16]
        return fp
    finally:
        c.close()


def unchanged(before, after, what):
    diff = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    return check(not diff, f"{what}: store unchanged", diff)


def expect_error(what, do, status, code=None, session=None):
    """do() answers a 4xx with the JSON error body and changes nothing."""
    if session:
        session.ensure()
    before = fingerprint()
    r = do()
    after = fingerprint()
    is_error(r, status, code, what)
    unchanged(before, after, what)
    return r


def good_certs(resident):
    return sql("SELECT h.serial, h.kind, h.expires, h.card FROM holder_cert h "
               "JOIN card c ON c.serial = h.card AND c.state = 'active' "
               "WHERE h.resident = ? AND h.expires >= ? AND NOT EXISTS "
               "(SELECT 1 FROM revocation r WHERE r.serial = h.serial) ORDER BY h.kind",
               resident, iso(today_jst()))


USED = set()  # residents an operation already changed


def candidates(min_days=1, max_days=None, window_open=None, need_sign=True):
    """Registered residents with an active card file and good certificates
    (both kinds when need_sign), by the auth certificate's expiry."""
    t = today_jst()
    rows = sql("SELECT r.id, r.birth, c.serial, c.expires, r.stay_expires, "
               "h.serial, h.expires FROM resident r "
               "JOIN card c ON c.resident = r.id AND c.state = 'active' "
               "JOIN holder_cert h ON h.card = c.serial AND h.kind = 'auth' "
               "WHERE r.status = 'registered' AND c.image IS NOT NULL AND r.adult_ward = 0 "
               "AND h.expires >= ? AND NOT EXISTS "
               "(SELECT 1 FROM revocation v WHERE v.serial = h.serial) ORDER BY r.id",
               iso(t))
    out = []
    for rid, birth, card, card_exp, stay, auth, auth_exp in rows:
        if rid in USED:
            continue
        left = (d(auth_exp) - t).days
        if left < min_days or (max_days is not None and left > max_days):
            continue
        kinds = {k for _s, k, _e, _c in good_certs(rid)}
        if need_sign and kinds != {"sign", "auth"}:
            continue
        if window_open is not None and (window_state(d(auth_exp), t) == "open") != window_open:
            continue
        out.append(dict(id=rid, birth=d(birth), card=card, card_expires=d(card_exp),
                        stay=d(stay) if stay else None, auth=auth, auth_expires=d(auth_exp)))
    return out


def take(cands, what):
    if not cands:
        raise RuntimeError(f"no resident for {what} in the seeded population")
    c = cands[0]
    USED.add(c["id"])
    return c


# ---------------------------------------------------------------- PKI helpers

WORK = None
CA = {}  # name -> x509.Certificate


def cert_of(serial):
    der = sql1("SELECT der FROM certificate WHERE serial = ?", serial)
    return x509.load_der_x509_certificate(der)


def pem_file(serial):
    path = os.path.join(WORK, f"{serial}.pem")
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(cert_of(serial).public_bytes(serialization.Encoding.PEM))
    return path


def verify_by(issuer, cert):
    issuer.public_key().verify(cert.signature, cert.tbs_certificate_bytes,
                               padding.PKCS1v15(), cert.signature_hash_algorithm)


def ocsp_check(resp_der, kind, what):
    """Parses and verifies an OCSP response (signature by a responder the CA
    certified, or the CA itself)."""
    resp = ocsp.load_der_ocsp_response(resp_der)
    if resp.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        return resp
    try:
        signer = resp.certificates[0] if resp.certificates else CA[kind]
        if signer is not CA[kind]:
            verify_by(CA[kind], signer)
        signer.public_key().verify(resp.signature, resp.tbs_response_bytes,
                                   padding.PKCS1v15(), resp.signature_hash_algorithm)
        ok = True
    except Exception as e:  # noqa: BLE001
        ok = False
        print(f"   ({what}: {e})")
    check(ok, f"{what}: the OCSP response's signature verifies")
    return resp


def ocsp_request_der(kind, serial, nonce=None):
    b = ocsp.OCSPRequestBuilder().add_certificate(cert_of(serial), CA[kind], hashes.SHA1())
    if nonce:
        b = b.add_extension(x509.OCSPNonce(nonce), critical=False)
    return b.build().public_bytes(serialization.Encoding.DER)


def ocsp_post(kind, serial, nonce=None):
    der = ocsp_request_der(kind, serial, nonce)
    r = request("POST", f"/ocsp/{kind}", der,
                headers={"Content-Type": "application/ocsp-request"})
    return r


def ocsp_status(kind, serial, what, get_form=False):
    """(status name, revocation reason or None) through the server."""
    if get_form:
        b64 = base64.b64encode(ocsp_request_der(kind, serial)).decode()
        r = get(f"/ocsp/{kind}/" + urllib.parse.quote(b64, safe=""))
    else:
        r = ocsp_post(kind, serial)
    if not check(r.status == 200 and r.header("Content-Type") == "application/ocsp-response",
                 f"{what}: OCSP answer", r):
        return None, None
    resp = ocsp_check(r.body, kind, what)
    if resp.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        return resp.response_status.name, None
    eq(format(resp.serial_number, "x"), serial.lstrip("0"), f"{what}: OCSP serial")
    st = resp.certificate_status.name.lower()
    reason = resp.revocation_reason.name if st == "revoked" and resp.revocation_reason else None
    return st, reason


REASON_CODE = {"unspecified": 0, "keyCompromise": 1, "affiliationChanged": 3,
               "superseded": 4, "cessationOfOperation": 5}
X509_REASON = {"keyCompromise": "key_compromise", "affiliationChanged": "affiliation_changed",
               "superseded": "superseded", "cessationOfOperation": "cessation_of_operation",
               "unspecified": "unspecified"}


def metric(text, name, labels=None):
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$", line)
        if not m or m.group(1) != name:
            continue
        lab = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        if labels is None or all(lab.get(k) == v for k, v in labels.items()):
            return float(m.group(3))
    return None


def metrics():
    r = get("/metrics")
    return r.body.decode()


# ================================================================ sections


def t_openapi_static():
    section("openapi.json against --routes")
    check(API.get("openapi") == "3.0.3", "openapi: version 3.0.3", API.get("openapi"))
    schemes = API["components"]["securitySchemes"]
    check(schemes.get("jpki_session", {}).get("in") == "cookie"
          and schemes["jpki_session"].get("name") == "jpki_session",
          "openapi: the cookie security scheme jpki_session")
    csrf = [n for n, s in schemes.items()
            if s.get("in") == "header" and s.get("name") == "X-CSRF-Token"]
    check(len(csrf) == 1, "openapi: the X-CSRF-Token header scheme")
    # Every "api" route is documented with its role and the security it needs.
    for m, pat, role, api in ROUTES:
        if not api:
            continue
        o = API["paths"].get(pat, {}).get(m.lower())
        if not check(o is not None, f"openapi documents {m} {pat}"):
            continue
        eq(o.get("x-role", "-"), role, f"openapi {m} {pat}: x-role")
        sec = o.get("security")
        if role == "-":
            check(sec == [] or sec is None, f"openapi {m} {pat}: no security", sec)
        else:
            want = {"jpki_session"} | ({csrf[0]} if m == "POST" and csrf else set())
            check(isinstance(sec, list) and len(sec) == 1 and set(sec[0]) == want,
                  f"openapi {m} {pat}: security {sorted(want)}", sec)
        codes = set(o["responses"])
        check(any(c.startswith("2") for c in codes), f"openapi {m} {pat}: a 2xx answer")
        if role != "-":
            check({"401", "403"} <= codes, f"openapi {m} {pat}: 401 and 403 answers", codes)
        if m == "POST":
            check("413" in codes, f"openapi {m} {pat}: 413 answer", codes)
        for c, resp in o["responses"].items():
            resp = resolve(resp)
            if c.startswith(("4", "5")) and c != "405":
                sch = resp.get("content", {}).get("application/json", {}).get("schema", {})
                check(sch.get("$ref") == "#/components/schemas/Error"
                      or m == "GET" and pat == "/healthz",
                      f"openapi {m} {pat} {c}: the Error schema", sch)
        for p in o.get("parameters", []):
            p = resolve(p)
            if p["in"] == "path":
                check("{" + p["name"] + "}" in pat, f"openapi {m} {pat}: path parameter "
                      f"{p['name']} in the path")
        for name in re.findall(r"\{(\w+)\}", pat):
            check(any(resolve(p)["name"] == name and resolve(p)["in"] == "path"
                      for p in o.get("parameters", [])),
                  f"openapi {m} {pat}: parameter {name} described")
    err = resolve({"$ref": "#/components/schemas/Error"})
    eq(sorted(err.get("required", [])), ["error", "message", "message_en"],
       "openapi: the Error schema's fields")
    # Nothing the server does not route: each documented path, with sample
    # values, must reach a route of that method other than the pages.
    api_set = {(m, p) for m, p, _r, a in ROUTES if a}
    for tpl, ops in API["paths"].items():
        sample = re.sub(r"\{(\w+)\}", lambda mm: {"kind": "sign", "id": "1",
                                                  "request": "MAo=",
                                                  "municipality": "131164"}.get(
                                                      mm.group(1), "x1"), tpl)
        for method in ops:
            if method not in ("get", "post", "put", "delete", "patch", "head"):
                continue
            r = pick_route(method.upper(), sample)
            check(r is not None and r[0] == method.upper() and r[1] not in ("/*", "/"),
                  f"openapi {method.upper()} {tpl} is a route of the server", r)
    documented = {(m.upper(), p) for p, ops in API["paths"].items() for m in ops}
    check(api_set <= documented, "openapi ⊇ the api routes", api_set - documented)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def spawn(port, stderr_path, args):
    """Starts jpkid on port and waits for /healthz."""
    proc = subprocess.Popen(
        [JPKID, "--listen", f"127.0.0.1:{port}", "--store", DB,
         "--web-root", os.path.join(SRC, "web"), "--office", OFFICE, *args],
        stdout=subprocess.DEVNULL, stderr=open(stderr_path, "wb"), env=ENV)
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"jpkid exited {proc.returncode}: "
                               f"{open(stderr_path, errors='replace').read()}")
        try:
            r = get("/healthz", timeout=5, port=port)
            if r.status == 200:
                return proc
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("jpkid did not answer /healthz in 30 s")
        time.sleep(0.1)


def stop(proc, stderr_path, what, signalled=False):
    """SIGTERM: exit 0, "stopped", no sanitizer report. Returns stderr."""
    if not signalled:
        proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
    err = open(stderr_path, encoding="utf-8", errors="replace").read()
    eq(rc, 0, f"{what} exits 0 on SIGTERM")
    check("jpkid: stopped" in err, f"{what}'s stderr says stopped", err[-500:])
    for bad in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error"):
        check(bad not in err, f"{what}'s stderr has no '{bad}'",
              err[err.find(bad) - 200:err.find(bad) + 1500] if bad in err else "")
    for s in SECRETS:
        check(s not in err, f"{what}'s stderr holds no secret ({s[:3]}...)")
    return err


def t_start():
    global PORT, PROC, STDERR_PATH
    section("start jpkid")
    PORT = free_port()
    STDERR_PATH = os.path.join(WORK, "jpkid.stderr")
    PROC = spawn(PORT, STDERR_PATH, [
        "--access-log", os.path.join(WORK, "access.log"), "--session-idle", "3",
        "--login-limit", "3", "--login-window", "60",
        "--notice-dir", os.path.join(WORK, "notices")])
    check(True, "jpkid answers /healthz")


def t_second_server():
    section("a second jpkid on the same store: --session-max, the login window, a proxy")
    port2 = free_port()
    err2 = os.path.join(WORK, "jpkid2.stderr")
    W = 5  # --session-max and --login-window (whole seconds on the server)
    p2 = spawn(port2, err2, ["--access-log", "off", "--session-idle", "60",
                             "--session-max", str(W), "--login-limit", "1",
                             "--login-window", str(W), "--threads", "2",
                             "--trust-proxy", "127.0.0.1"])
    try:
        sup = Staff("sup1", port=port2)
        eq(sup.login().status, 200, "server 2: login")
        t1 = time.monotonic()  # the session was created before t1
        eq(sup.get("/api/v1/session", ensure=False).status, 200,
           "server 2: the session works before --session-max")
        # --trust-proxy 127.0.0.1: the client is the last X-Forwarded-For
        # address (the rate limit, the audit); from elsewhere it is ignored.
        is_error(request("POST", "/api/v1/login", {"user": "ghost-x", "password": "nope-nope-1"},
                         headers={"X-Forwarded-For": "203.0.113.9, 198.51.100.7"}, port=port2),
                 401, "bad_credentials", "server 2: a failed login behind the proxy")
        is_error(request("POST", "/api/v1/login", {"user": "admin1", "password": PW["admin1"]},
                         headers={"X-Forwarded-For": "198.51.100.7"}, port=port2),
                 429, "rate_limited", "behind the proxy: that client is limited")
        row = sql("SELECT details FROM audit_log WHERE action = 'staff.login_failed' "
                  "ORDER BY seq DESC LIMIT 1")[0]
        eq(json.loads(row[0]).get("client"), "198.51.100.7",
           "behind the proxy: the audit names the forwarded client")
        eq(request("POST", "/api/v1/login", {"user": "admin1", "password": PW["admin1"]},
                   headers={"X-Forwarded-For": "198.51.100.8"}, port=port2).status, 200,
           "behind the proxy: another client is not")
        eq(request("POST", "/api/v1/login", {"user": "admin1", "password": PW["admin1"]},
                   headers={"X-Forwarded-For": "198.51.100.7"}, src="127.0.0.2",
                   port=port2).status, 200,
           "X-Forwarded-For from an address other than the proxy is ignored")
        is_error(request("POST", "/api/v1/login", {"user": "counter1", "password": "nope-nope-1"},
                         port=port2), 401, "bad_credentials", "server 2: a wrong password")
        t_fail = time.monotonic()  # the login window started before this
        is_error(request("POST", "/api/v1/login", {"user": "counter1", "password": PW["counter1"]},
                         port=port2), 429, "rate_limited", "server 2: --login-limit 1")
        cnt1 = Staff("counter1")
        cnt1.ensure()
        r = request("GET", "/api/v1/session", headers={"Cookie": cnt1.cookie}, port=port2)
        is_error(r, 401, "login_required", "server 2 does not know server 1's session")
        # A revocation through server 2 reaches server 1's OCSP (its watcher).
        c = take(candidates(min_days=30), "revoke through server 2")
        for _ in range(2):
            ocsp_status("auth", c["auth"], "server 1 OCSP before", get_form=True)
        sup2 = Staff("sup1", port=port2, src="127.0.0.3")
        r = sup2.post(f"/api/v1/certificates/{c['auth']}/revoke", {"reason": "affiliationChanged"})
        eq(r.status, 200, "server 2: revoke")
        st, deadline = None, time.monotonic() + 6
        while time.monotonic() < deadline:
            st = ocsp_status("auth", c["auth"], "server 1 OCSP after", get_form=True)[0]
            if st == "revoked":
                break
            time.sleep(0.3)
        eq(st, "revoked", "a revocation by another jpkid shows in this one's OCSP within 6 s")
        time.sleep(max(0.0, t1 + W + 0.1 - time.monotonic()))
        is_error(sup.get("/api/v1/session", ensure=False), 401, "session_expired",
                 f"server 2: --session-max {W} ends a session in use")
        time.sleep(max(0.0, t_fail + W + 0.1 - time.monotonic()))
        eq(request("POST", "/api/v1/login", {"user": "counter1", "password": PW["counter1"]},
                   port=port2).status, 200, "server 2: after --login-window a login works again")
    finally:
        stop(p2, err2, "the second jpkid")


def t_health_metrics():
    section("/healthz and /metrics")
    r = get("/healthz")
    j = r.json
    eq((r.status, j.get("status"), j.get("store")), (200, "ok", "ok"), "healthz: ok")
    eq(j.get("schema"), sql1("SELECT max(version) FROM schema_migrations"),
       "healthz: schema = the store's last migration")
    check(isinstance(j.get("uptime_s"), int) and 0 <= j["uptime_s"] < 3600,
          "healthz: uptime_s", j)
    eq(r.header("X-Content-Type-Options"), "nosniff", "healthz: nosniff")
    h = request("HEAD", "/healthz")
    check(h.status == 200 and h.body == b"", "HEAD /healthz: 200 without a body", h)
    m1 = metrics()
    bad = [ln for ln in m1.splitlines() if ln and not ln.startswith("#") and not re.match(
        r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_]\w*="[^"]*",?)*\})? '
        r'(-?[0-9.]+(e[+-]?\d+)?|\+Inf|NaN)$', ln)]
    check(not bad, "metrics: every sample line is `name{labels} value`", bad[:3])
    check(all(re.match(r"^# (HELP|TYPE) \w+ .+$", ln) for ln in m1.splitlines()
              if ln.startswith("#")), "metrics: comment lines are HELP/TYPE")
    for name in ("jpkid_requests_total", "jpkid_request_duration_seconds_bucket",
                 "jpkid_ocsp_responses_total", "jpkid_store_errors_total",
                 "jpkid_sessions", "jpkid_crl_builds_total"):
        check(metric(m1, name) is not None, f"metrics: {name}")
    before = metric(m1, "jpkid_requests_total", {"route": "healthz", "code": "200"}) or 0
    total0 = sum(float(x) for x in re.findall(r"^jpkid_requests_total\{[^}]*\} (\S+)$", m1,
                                              re.M))
    for _ in range(5):
        get("/healthz")
    time.sleep(0.5)
    m2 = metrics()
    after = metric(m2, "jpkid_requests_total", {"route": "healthz", "code": "200"})
    eq(after - before, 5, "metrics: 5 more healthz requests counted")
    total1 = sum(float(x) for x in re.findall(r"^jpkid_requests_total\{[^}]*\} (\S+)$", m2,
                                              re.M))
    check(6 <= total1 - total0 <= 6, "metrics: every request counted (5 healthz + 1 metrics)",
          total1 - total0)
    # Histogram: cumulative buckets, +Inf = count.
    for route in ("healthz",):
        bs = [(float("inf") if le == "+Inf" else float(le), float(v)) for le, v in re.findall(
            r'^jpkid_request_duration_seconds_bucket\{route="%s",le="([^"]+)"\} (\S+)$' % route,
            m2, re.M)]
        check(bs and all(bs[k][1] <= bs[k + 1][1] for k in range(len(bs) - 1)),
              f"metrics: {route} buckets cumulative")
        cnt = metric(m2, "jpkid_request_duration_seconds_count", {"route": route})
        check(bs and bs[-1][0] == float("inf") and bs[-1][1] == cnt,
              f"metrics: {route} +Inf bucket = count")


# ---------------------------------------------------------------- public API


def t_public_window():
    section("public: renewal window")
    cases = ["2027-05-31", "2028-05-31", "2027-03-31", "2028-02-29", "2024-02-29",
             "2027-05-29", "2026-05-20", "2027-11-30", "2028-08-31", "2026-12-31",
             "2029-01-31"]
    expect_first = {"2027-05-31": "2027-03-01", "2028-05-31": "2028-03-01",
                    "2027-03-31": "2027-01-01", "2028-02-29": "2027-11-30",
                    "2024-02-29": "2023-11-30", "2026-05-20": "2026-02-21"}
    for e in cases:
        exp = d(e)
        first, last = window(exp)
        if e in expect_first:
            eq(iso(first), expect_first[e], f"(oracle) window of {e}")
        r = get(q("/api/v1/renewal-window", expires=e))
        j = r.json
        eq((r.status, j.get("first"), j.get("last"), j.get("expires")),
           (200, iso(first), iso(last), e), f"renewal-window {e}: first/last")
        eq(j.get("state"), window_state(exp, today_jst()), f"renewal-window {e}: state today")
        eq((j.get("first_wareki"), j.get("last_wareki"), j.get("expires_wareki")),
           (wk(first), wk(last), wk(exp)), f"renewal-window {e}: 和暦")
        for on, state in ((first - dt.timedelta(days=1), "not_yet"), (first, "open"),
                          (last, "open"), (last + dt.timedelta(days=1), "expired"),
                          (first - dt.timedelta(days=40), "not_yet")):
            j = get(q("/api/v1/renewal-window", expires=e, on=iso(on))).json
            eq(j.get("state"), state, f"renewal-window {e} on {on}: {state}")
            if state == "open":
                eq(j.get("days_left"), (last - on).days, f"renewal-window {e} on {on}: days_left")
            elif state == "not_yet":
                eq(j.get("days_until_open"), (first - on).days,
                   f"renewal-window {e} on {on}: days_until_open")
            else:
                check("days_left" not in j and "days_until_open" not in j,
                      f"renewal-window {e} on {on}: no day count when expired", j)
        rc, c = cli_json("renewal-window", "--expires", e)
        eq((c or {}).get("first"), iso(first), f"(oracle agrees) jpki renewal-window {e}")


def t_public_wareki():
    section("public: 和暦")
    for s, want in (("2019-04-30", "平成31年4月30日"), ("2019-05-01", "令和元年5月1日"),
                    ("2019-12-31", "令和元年12月31日"), ("2020-01-01", "令和2年1月1日"),
                    ("1989-01-07", "昭和64年1月7日"), ("1989-01-08", "平成元年1月8日"),
                    ("1926-12-25", "昭和元年12月25日"), ("1912-07-30", "大正元年7月30日"),
                    ("1873-01-01", "明治6年1月1日"), ("1872-12-31", "1872年12月31日"),
                    ("2026-05-20", "令和8年5月20日"), (iso(today_jst()), None)):
        w, era = wareki(d(s))
        if want:
            eq(w, want, f"(oracle) 和暦 of {s}")
        r = get(q("/api/v1/wareki", date=s))
        eq((r.status, r.json.get("date"), r.json.get("wareki"), r.json.get("era")),
           (200, s, w, era), f"wareki {s}")


def t_public_guide():
    section("public: guide")
    t = today_jst()
    bring_cli = {}
    for a in ("self", "proxy-with-form", "proxy-without-form", "guardian", "legal-rep"):
        bring_cli[a] = cli_json("bring", "--procedure", "renew", "--applicant", a)[1]
    for e, on in (("2027-01-10", None), ("2027-05-31", "2027-03-01"),
                  ("2028-02-29", "2027-11-29"), ("2026-06-30", "2026-08-01")):
        params = {"expires": e}
        if on:
            params["on"] = on
        r = get(q("/api/v1/guide", **params))
        j = r.json
        day = d(on) if on else t
        first, last = window(d(e))
        eq(r.status, 200, f"guide {e} on {on}: 200")
        eq((j.get("today"), j.get("today_wareki"), j.get("computed_from"), j.get("expires"),
            j.get("expires_wareki")), (iso(day), wk(day), "expires", e, wk(e)),
           f"guide {e} on {on}: today/expires")
        w = j.get("window") or {}
        eq((w.get("first"), w.get("last"), w.get("state")),
           (iso(first), iso(last), window_state(d(e), day)), f"guide {e} on {on}: window")
        if w.get("state") == "open":
            eq(w.get("days_left"), (last - day).days, f"guide {e} on {on}: days_left")
        eq(j.get("bring"), bring_cli, f"guide {e} on {on}: bring = jpki bring --json (5 "
                                      "applicants)")
        office_day = get(q("/api/v1/office", date=iso(day))).json
        eq((j.get("office") or {}).get("today"), office_day,
           f"guide {e} on {on}: office.today = /api/v1/office")
        days = get(q("/api/v1/office/open-days", **{"from": iso(day), "count": 7})).json
        eq((j.get("office") or {}).get("open_days"), days.get("days"),
           f"guide {e} on {on}: office.open_days = open-days count=7")
        eq((j.get("office") or {}).get("name"), days.get("office"), f"guide {e}: office name")
        if on:
            rc, c = cli_json("reservable", "--config", OFFICE, "--expires", e,
                             "--now", f"{on}T09:00:00+09:00")
            got = {k: v for k, v in (j.get("reservable") or {}).items() if k in (c or {})}
            eq(got, c, f"guide {e} on {on}: reservable = jpki reservable (09:00 of on)")
    # birth + issued: the 5th birthday after the issue day.
    for birth, issued in (("1990-02-28", "2024-03-01"), ("1992-02-29", "2025-01-10"),
                          ("1980-06-15", "2026-06-15"), ("1980-06-15", "2026-06-14"),
                          ("2000-02-29", "2024-02-29"), ("1975-12-31", "2026-01-01")):
        exp = nth_birthday_after(d(birth), d(issued), 5)
        j = get(q("/api/v1/guide", birth=birth, issued=issued, on="2026-11-24")).json
        eq((j.get("computed_from"), j.get("expires"), j.get("expires_wareki")),
           ("birth_issued", iso(exp), wk(exp)), f"guide birth {birth} issued {issued}")
        eq((j.get("window") or {}).get("first"), iso(window(exp)[0]),
           f"guide birth {birth} issued {issued}: window")
    check(nth_birthday_after(d("1992-02-29"), d("2025-01-10"), 5) == d("2029-02-28")
          and nth_birthday_after(d("1980-06-15"), d("2026-06-15"), 5) == d("2031-06-15"),
          "(oracle) 5th birthday: Feb 29 and issue-day cases")


def t_public_calendar():
    section("public: holidays, office, open days")
    p = cli("holidays", "2026", check_rc=True)
    want = [tuple(ln.split("\t")) for ln in p.stdout.strip().splitlines()]
    r = get(q("/api/v1/holidays", year=2026))
    got = [(h["date"], h["name"]) for h in r.json.get("holidays", [])]
    eq(got, want, "holidays 2026 = jpki holidays 2026")
    eq(len(got), 18, "holidays 2026: 18 days")
    check(("2026-01-01", "元日") in got, "holidays 2026: 2026-01-01 元日")
    check(("2026-09-22", "休日") in got, "holidays 2026: 2026-09-22 休日 (国民の休日)")
    check(all(h["weekday"] == WEEKDAYS[d(h["date"]).weekday()] for h in r.json["holidays"]),
          "holidays 2026: weekdays")
    for y in (2019, 2020, 1948, 2099):
        rc, c = cli_json("holidays", str(y))
        j = get(q("/api/v1/holidays", year=y)).json
        eq([(h["date"], h["name"]) for h in j.get("holidays", [])],
           [(h["date"], h["name"]) for h in c or []], f"holidays {y} = jpki holidays --json")
    t = today_jst()
    dates = [t, d("2026-09-22"), d("2026-11-21"), d("2026-11-22"), d("2026-12-29"),
             d("2027-01-04"), d("2026-11-24"), d("2026-11-28"), d("2026-11-29"),
             d("2027-02-11"), d("2026-05-06")]
    for x in dates:
        rc, c = cli_json("office", "--config", OFFICE, "--date", iso(x))
        r = get(q("/api/v1/office", date=iso(x)))
        j = r.json
        eq({k: j.get(k) for k in c}, c, f"office {x} = jpki office --json")
        eq((j.get("wareki"), j.get("weekday")), (wk(x), WEEKDAYS[x.weekday()]),
           f"office {x}: wareki and weekday")
        eq(j.get("next_open_wareki"), wk(c["next_open"]) if c.get("next_open") else None,
           f"office {x}: next_open_wareki")
    eq(get("/api/v1/office").json.get("date"), iso(t), "office: default date is today")
    cache = {}

    def cli_day(x):
        if x not in cache:
            cache[x] = cli_json("office", "--config", OFFICE, "--date", iso(x))[1]
        return cache[x]

    for start, count in ((d("2026-12-24"), 10), (d("2026-11-19"), 5), (t, None)):
        params = {"from": iso(start)}
        if count:
            params["count"] = count
        j = get(q("/api/v1/office/open-days", **params)).json
        days = j.get("days", [])
        eq(len(days), count or 10, f"open-days from {start}: count")
        x = start
        ok = True
        for day in days:
            dd = d(day["date"])
            while x < dd:
                ok &= not cli_day(x)["open"]
                x += dt.timedelta(days=1)
            c = cli_day(dd)
            ok &= c["open"] and c["hours"] == day["hours"] and day["wareki"] == wk(dd) \
                and day["weekday"] == WEEKDAYS[dd.weekday()]
            x = dd + dt.timedelta(days=1)
        check(ok, f"open-days from {start}: the open days of jpki office, none skipped")
    eq(get("/api/v1/office/open-days").json.get("days", [{}])[0].get("date"),
       next(iso(t + dt.timedelta(days=k)) for k in range(30)
            if cli_day(t + dt.timedelta(days=k))["open"]),
       "open-days: default from today")


def t_public_rules():
    section("public: bring, cert-expiry, card-expiry, reservable")
    for p in ("renew", "issue", "pin-reset", "revoke"):
        for a in ("self", "proxy-with-form", "proxy-without-form", "guardian", "legal-rep"):
            rc, c = cli_json("bring", "--procedure", p, "--applicant", a)
            r = get(q("/api/v1/bring", procedure=p, applicant=a))
            if rc == 0:
                eq((r.status, r.json), (200, c), f"bring {p} {a} = jpki bring --json")
            else:
                is_error(r, 422, "not_allowed", f"bring {p} {a} (jpki refuses)")
    cert_cases = [
        dict(kind="sign", birth="1980-02-29", issued="2026-11-21"),
        dict(kind="auth", birth="1980-02-29", issued="2026-11-21"),
        dict(kind="sign", birth="1985-04-10", issued="2026-01-20", renewing="2026-04-10"),
        dict(kind="sign", birth="1985-04-10", issued="2025-12-20", renewing="2026-04-10"),
        dict(kind="auth", birth="1985-04-10", issued="2026-01-20", renewing="2026-04-10",
             card_expires="2029-04-10"),
        dict(kind="sign", birth="1990-07-01", issued="2026-03-01", auth_expires="2029-01-01"),
        dict(kind="auth", birth="1990-07-01", issued="2026-03-01", stay_expires="2027-03-31"),
        dict(kind="sign", birth="2015-05-05", issued="2026-05-01"),
        dict(kind="auth", birth="2015-05-05", issued="2026-05-01"),
        dict(kind="sign", birth="1970-01-01", issued="2026-05-01", ward="true"),
        dict(kind="sign", birth="1970-01-01", issued="2026-05-01", ward="true",
             ward_present="true"),
        dict(kind="sign", birth="1992-02-29", issued="2026-03-01", feb29="mar1"),
        dict(kind="auth", birth="1990-07-01", issued="2026-03-01", card_expires="2026-02-01"),
    ]
    for c in cert_cases:
        args = []
        for k, v in c.items():
            if k in ("ward", "ward_present"):
                args.append("--" + k.replace("_", "-"))
            else:
                args += ["--" + k.replace("_", "-"), v]
        rc, o = cli_json("cert-expiry", *args)
        r = get(q("/api/v1/cert-expiry", **c))
        what = "cert-expiry " + " ".join(f"{k}={v}" for k, v in c.items())
        if rc == 0:
            got = {k: r.json.get(k) for k in o}
            eq((r.status, got), (200, o), f"{what} = jpki --json")
            eq(r.json.get("expires_wareki"), wk(o["expires"]), f"{what}: expires_wareki")
        else:
            is_error(r, 422, "not_eligible", f"{what} (jpki exit {rc})")
    # The 6th birthday when renewing inside the window, computed here.
    j = get(q("/api/v1/cert-expiry", kind="auth", birth="1985-04-10", issued="2026-01-20",
              renewing="2026-04-10")).json
    eq((j.get("expires"), j.get("nth_birthday"), j.get("in_window")),
       (iso(nth_birthday_after(d("1985-04-10"), d("2026-01-20"), 6)), 6, True),
       "cert-expiry: renewing in the window gives the 6th birthday")
    card_cases = [
        dict(birth="1980-02-29", applied="2026-11-01", issued="2026-11-21"),
        dict(birth="2008-06-01", applied="2026-05-31", issued="2026-06-20"),
        dict(birth="2008-06-01", applied="2026-06-01", issued="2026-06-20"),
        dict(birth="2003-01-10", applied="2022-03-31", issued="2022-04-20"),
        dict(birth="2003-01-10", applied="2022-04-01", issued="2022-04-20"),
        dict(birth="1990-01-01", applied="2026-01-05", issued="2026-02-01",
             stay_expires="2027-06-30"),
        dict(birth="1990-01-01", applied="2026-01-05", issued="2026-02-01",
             stay_expires="2026-01-31"),
    ]
    for c in card_cases:
        args = []
        for k, v in c.items():
            args += ["--" + k.replace("_", "-"), v]
        rc, o = cli_json("card-expiry", *args)
        r = get(q("/api/v1/card-expiry", **c))
        what = "card-expiry " + " ".join(f"{k}={v}" for k, v in c.items())
        if rc == 0:
            eq((r.status, {k: r.json.get(k) for k in o}), (200, o), f"{what} = jpki --json")
            eq(r.json.get("expires_wareki"), wk(o["expires"]), f"{what}: expires_wareki")
        else:
            is_error(r, 422, "not_eligible", f"{what} (jpki exit {rc})")
    t = today_jst()
    for e, now in ((iso(t + dt.timedelta(days=40)), f"{iso(t)}T10:00:00+09:00"),
                   (iso(t + dt.timedelta(days=40)), f"{iso(t)}T17:30:00+09:00"),
                   ("2027-06-10", "2026-11-21T10:00:00+09:00"),
                   ("2026-12-31", "2026-12-20T16:59:00+09:00"),
                   ("2026-10-01", "2026-11-21T10:00:00+09:00"),
                   ("2027-01-10", "2026-11-21T10:00:00+09:00"),
                   ("2027-01-10", "2026-11-24T07:59:00Z"), ("2027-01-10", "2026-11-24T08:01:00Z")):
        rc, o = cli_json("reservable", "--config", OFFICE, "--expires", e, "--now", now)
        r = get(q("/api/v1/reservable", expires=e, now=now))
        eq((r.status, {k: r.json.get(k) for k in (o or {})}), (200, o),
           f"reservable {e} at {now} = jpki reservable --json")
        eq(r.json.get("first_wareki"), wk(o["first"]) if o and o.get("first") else None,
           f"reservable {e} at {now}: first_wareki")
    e = iso(t + dt.timedelta(days=200))
    rc, o = cli_json("reservable", "--config", OFFICE, "--expires", e)
    eq({k: get(q("/api/v1/reservable", expires=e)).json.get(k) for k in (o or {})}, o,
       "reservable without now (before the window) = jpki reservable")


# ---------------------------------------------------------------- sessions


def t_sessions():
    section("sessions: login, rate limits, logout, idle expiry")
    c = Staff("counter1", "counter")
    r = c.login()
    eq(r.status, 200, "login counter1: 200")
    eq((r.json.get("user"), r.json.get("role")), ("counter1", "counter"), "login: user, role")
    cookie = r.header("Set-Cookie") or ""
    attrs = [a.strip() for a in cookie.split(";")]
    check(re.match(r"^jpki_session=[A-Za-z0-9_-]{40,}$", attrs[0]), "login: cookie value", cookie)
    check("HttpOnly" in attrs, "login: cookie HttpOnly", cookie)
    check("SameSite=Strict" in attrs, "login: cookie SameSite=Strict", cookie)
    check("Path=/" in attrs, "login: cookie Path=/", cookie)
    check("Secure" not in attrs, "login: no Secure without --cookie-secure", cookie)
    eq(r.header("Cache-Control"), "no-store", "login: Cache-Control no-store")
    check(isinstance(r.json.get("csrf"), str) and len(r.json["csrf"]) >= 32, "login: csrf")
    check(sql1("SELECT count(*) FROM audit_log WHERE action = 'staff.login' AND "
               "actor = 'staff:counter1'") >= 1, "login: audited (staff.login)")
    t_login = time.time()
    s = c.get("/api/v1/session", ensure=False)
    j = s.json
    eq((s.status, j.get("user"), j.get("role"), j.get("csrf")),
       (200, "counter1", "counter", c.csrf), "session: user, role, csrf")
    if j.get("idle_expires_at"):
        idle = parse_instant(j["idle_expires_at"]).timestamp()
        check(abs(idle - (time.time() + 3)) <= 2, "session: idle_expires_at ≈ now + 3 s",
              j["idle_expires_at"])
        check(j["idle_expires_at"].endswith("+09:00"), "session: instants in +09:00")
        mx = parse_instant(j["expires_at"]).timestamp()
        check(abs(mx - (t_login + 28800)) <= 3, "session: expires_at ≈ login + 8 h",
              j["expires_at"])
    # Two sessions of one user are independent; logout ends only its own.
    c2 = Staff("counter1")
    c2.login()
    r = c.post("/api/v1/logout", ensure=False)
    eq((r.status, r.json), (200, {"ok": True}), "logout: {ok:true}")
    check("Max-Age=0" in (r.header("Set-Cookie") or "") and
          (r.header("Set-Cookie") or "").startswith("jpki_session=;"),
          "logout: the cookie is cleared", r.header("Set-Cookie"))
    is_error(c.get("/api/v1/session", ensure=False), 401, "login_required",
             "session after logout")
    is_error(c.post("/api/v1/logout", ensure=False), 401, "login_required",
             "logout after logout")
    eq(c2.get("/api/v1/session", ensure=False).status, 200,
       "logout ends only that session (the other one stays)")
    check(sql1("SELECT count(*) FROM audit_log WHERE action = 'staff.logout' AND "
               "actor = 'staff:counter1'") >= 1, "logout: audited (staff.logout)")
    # Idle expiry: 3 s without use.
    c3 = Staff("sup1")
    c3.login()
    eq(c3.get("/api/v1/session", ensure=False).status, 200, "session: used at once")
    time.sleep(0.6)
    eq(c3.get("/api/v1/session", ensure=False).status, 200,
       "session: used again within the idle time (it slides)")
    time.sleep(3.6)
    is_error(c3.get("/api/v1/session", ensure=False), 401, "session_expired",
             "session after 3.6 s idle")
    is_error(c3.post("/api/v1/logout", ensure=False), 401, "session_expired",
             "POST with an expired session")
    # Wrong password, from an address of its own (failures count per address).
    before = fingerprint()
    r = request("POST", "/api/v1/login", {"user": "counter1", "password": "wrong-password-1"},
                src="127.0.0.6")
    is_error(r, 401, "bad_credentials", "login with a wrong password")
    check(r.header("Set-Cookie") is None, "failed login: no cookie")
    after = fingerprint()
    eq(after["audit_seq"] - before["audit_seq"], 1, "failed login: one audit row")
    eq(sql1("SELECT action || ' ' || object FROM audit_log ORDER BY seq DESC LIMIT 1"),
       "staff.login_failed counter1", "failed login: audited as staff.login_failed")
    row = sql("SELECT actor, details FROM audit_log ORDER BY seq DESC LIMIT 1")[0]
    eq((row[0], json.loads(row[1]).get("client")), ("jpkid", "127.0.0.6"),
       "failed login: actor jpkid, with the client address")
    row = sql("SELECT details FROM audit_log WHERE action = 'staff.login' ORDER BY seq DESC "
              "LIMIT 1")[0]
    eq(json.loads(row[0]).get("client"), "127.0.0.1", "login: audited with the client address")
    is_error(request("POST", "/api/v1/login", {"user": "nobody", "password": "whatever-123"},
                     src="127.0.0.6"), 401, "bad_credentials", "login of an unknown user")
    # Per account: 3 failures (from .2), then even the right password from
    # another address (.3) gets 429.
    for k in range(3):
        is_error(request("POST", "/api/v1/login", {"user": "ratelim", "password": f"bad-{k}-xxxxx"},
                         src="127.0.0.2"), 401, "bad_credentials",
                 f"rate limit (account): failure {k + 1}")
    r = request("POST", "/api/v1/login", {"user": "ratelim", "password": PW["ratelim"]},
                src="127.0.0.3")
    is_error(r, 429, "rate_limited", "rate limit (account): right password from another "
                                     "address after 3 failures")
    ra = r.header("Retry-After")
    check(ra is not None and ra.isdigit() and 0 < int(ra) <= 60,
          "rate limit (account): Retry-After in 1..60", ra)
    eq(request("POST", "/api/v1/login", {"user": "admin1", "password": PW["admin1"]},
               src="127.0.0.3").status, 200,
       "rate limit (account): another account from that address logs in")
    # Per address: 3 failures with 3 different user names from .4, then a
    # 4th name (and even a right password) from .4 gets 429; .1 still logs in.
    for k in range(3):
        is_error(request("POST", "/api/v1/login", {"user": f"ghost{k}", "password": "nope-nope-1"},
                         src="127.0.0.4"), 401, "bad_credentials",
                 f"rate limit (address): failure {k + 1}")
    r = request("POST", "/api/v1/login", {"user": "ghost9", "password": "nope-nope-1"},
                src="127.0.0.4")
    is_error(r, 429, "rate_limited", "rate limit (address): a 4th user name")
    check((r.header("Retry-After") or "").isdigit(), "rate limit (address): Retry-After")
    is_error(request("POST", "/api/v1/login", {"user": "counter1", "password": PW["counter1"]},
                     src="127.0.0.4"), 429, "rate_limited",
             "rate limit (address): a right password from that address")
    eq(request("POST", "/api/v1/login", {"user": "counter1", "password": PW["counter1"]}).status,
       200, "rate limit (address): another address still logs in")
    # The limit holds under concurrency: of 8 wrong passwords sent at once
    # from a fresh address, at most --login-limit (3) are tried.
    res = []
    barrier = threading.Barrier(8)

    def guess(k):
        barrier.wait()
        res.append(request("POST", "/api/v1/login",
                           {"user": "ratelim2", "password": f"guess-{k}-xxxxx"}, src="127.0.0.10"))
    ts = [threading.Thread(target=guess, args=(k,)) for k in range(8)]
    for th in ts:
        th.start()
    for th in ts:
        th.join()
    tried = sum(r.status == 401 for r in res)
    check(tried <= 3 and tried + sum(r.status == 429 for r in res) == 8,
          "8 concurrent wrong logins: at most --login-limit (3) verified, the rest 429",
          sorted(r.status for r in res))
    eq(sql1("SELECT count(*) FROM audit_log WHERE action = 'staff.login_failed' AND "
            "object = 'ratelim2'"), tried, "concurrent wrong logins: each one tried is audited")
    # No session at all, or a made-up one: 401 login_required everywhere.
    for m, pat, role, _api in ROUTES:
        if role == "-":
            continue
        path = pat.replace("{id}", "1").replace("{serial}", "ab12").replace("{user}", "x1")
        body = {} if m == "POST" else None
        expect_error(f"{m} {pat} without a session",
                     lambda: request(m, path, body), 401, "login_required")
        expect_error(f"{m} {pat} with an unknown cookie",
                     lambda: request(m, path, body, headers={
                         "Cookie": "jpki_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                         "X-CSRF-Token": "x"}), 401, "login_required")


def t_csrf_roles():
    section("CSRF and roles")
    adm = Staff("admin1", "admin")
    posts = [(m, p) for m, p, role, _a in ROUTES if m == "POST" and role != "-"]
    bodies = {"/api/v1/residents/{id}/renew": {"pins": {"sign": SIGN_PIN, "auth": AUTH_PIN}},
              "/api/v1/residents/{id}/pin-reset": {"kind": "auth"},
              "/api/v1/residents/{id}/events": {"type": "card_lost"},
              "/api/v1/certificates/{serial}/revoke": {"reason": "keyCompromise"},
              "/api/v1/staff": {"user": "csrfuser", "role": "admin", "password": "long-enough-pw"}}
    victim = take(candidates(min_days=120), "CSRF target")
    for m, pat in posts:
        path = pat.replace("{id}", str(victim["id"])).replace(
            "{serial}", victim["auth"]).replace("{user}", "counter1")
        body = bodies.get(pat)
        expect_error(f"POST {pat} without X-CSRF-Token",
                     lambda: adm.post(path, body, csrf=False, ensure=False), 403, "csrf",
                     session=adm)
        expect_error(f"POST {pat} with a wrong X-CSRF-Token",
                     lambda: adm.post(path, body, csrf="A" * len(adm.csrf), ensure=False),
                     403, "csrf", session=adm)
        expect_error(f"POST {pat} with an empty X-CSRF-Token",
                     lambda: request("POST", path, body, headers={"Cookie": adm.cookie,
                                                                  "X-CSRF-Token": ""}),
                     403, "csrf", session=adm)
    cnt0 = Staff("counter1")
    expect_error("a counter without X-CSRF-Token on an admin route: csrf before role",
                 lambda: cnt0.post("/api/v1/ocsp/refresh", None, csrf=False, ensure=False),
                 403, "csrf", session=cnt0)
    eq(adm.get("/api/v1/session", ensure=False).status, 200,
       "the session survives the CSRF refusals (logout without a token did not log out)")
    # Another session's token is not this session's.
    other = Staff("admin1")
    other.login()
    expect_error("POST with another session's CSRF token",
                 lambda: adm.post("/api/v1/ocsp/refresh", None, csrf=other.csrf, ensure=False),
                 403, "csrf", session=adm)
    # Roles.
    cnt, sup = Staff("counter1", "counter"), Staff("sup1", "supervisor")
    forbidden = {
        "counter": [("POST", "/api/v1/residents/{id}/events"),
                    ("POST", "/api/v1/certificates/{serial}/revoke"),
                    ("GET", "/api/v1/staff"), ("POST", "/api/v1/staff"),
                    ("POST", "/api/v1/staff/{user}/disable"), ("POST", "/api/v1/crl/publish"),
                    ("POST", "/api/v1/ocsp/refresh"), ("GET", "/api/v1/notices/status"),
                    ("POST", "/api/v1/notices/runs"), ("GET", "/api/v1/notices/runs/{id}"),
                    ("GET", "/api/v1/notices/runs/{id}/files/{file}"),
                    ("POST", "/api/v1/notices/suspend"), ("POST", "/api/v1/notices/resume")],
        "supervisor": [("GET", "/api/v1/staff"), ("POST", "/api/v1/staff"),
                       ("POST", "/api/v1/staff/{user}/disable"),
                       ("POST", "/api/v1/crl/publish"), ("POST", "/api/v1/ocsp/refresh"),
                       ("POST", "/api/v1/notices/runs"), ("POST", "/api/v1/notices/suspend"),
                       ("POST", "/api/v1/notices/resume"),
                       ("GET", "/api/v1/notices/runs/{id}/files/{file}")],
    }
    rank = {"counter": 1, "supervisor": 2, "admin": 3}
    for who, sess in (("counter", cnt), ("supervisor", sup)):
        want = {(m, p) for m, p, role, _a in ROUTES if role != "-" and rank[role] > rank[who]}
        eq(set(forbidden[who]), want, f"(the route table) what a {who} may not do")
        for m, pat in forbidden[who]:
            path = pat.replace("{id}", str(victim["id"])).replace(
                "{serial}", victim["auth"]).replace("{user}", "sup1").replace(
                "{file}", "manifest.csv")
            body = bodies.get(pat)
            if m == "GET":
                expect_error(f"{who}: GET {pat} forbidden", lambda: sess.get(path, ensure=False),
                             403, "forbidden", session=sess)
            else:
                expect_error(f"{who}: POST {pat} forbidden",
                             lambda: sess.post(path, body, ensure=False), 403, "forbidden",
                             session=sess)
    eq(sql1("SELECT count(*) FROM staff WHERE username = 'csrfuser'"), 0,
       "no account was added by the refused requests")
    check(not sql("SELECT 1 FROM revocation WHERE serial = ?", victim["auth"]),
          "no certificate was revoked by the refused requests")


# ---------------------------------------------------------------- staff API


def resident_row(rid):
    c = db()
    c.row_factory = sqlite3.Row
    try:
        return c.execute("SELECT * FROM resident WHERE id = ?", (rid,)).fetchone()
    finally:
        c.close()


def age_on(birth, on):
    a = on.year - birth.year
    if (on.month, on.day) < (birth.month, birth.day):
        a -= 1
    return a


def t_search_detail():
    section("staff: search and resident detail")
    cnt = Staff("counter1", "counter")
    rid = sql1("SELECT min(id) FROM resident WHERE id > 10")
    j = cnt.get(q("/api/v1/residents", q=str(rid))).json
    eq([x["id"] for x in j.get("residents", [])], [rid], f"search by id {rid}")
    birth = sql1("SELECT birth FROM resident GROUP BY birth HAVING count(*) >= 1 "
                 "ORDER BY count(*) DESC, birth LIMIT 1")
    want = [x[0] for x in sql("SELECT id FROM resident WHERE birth = ? ORDER BY id", birth)]
    j = cnt.get(q("/api/v1/residents", q=birth)).json
    eq(sorted(x["id"] for x in j.get("residents", [])), want, f"search by birth {birth}")
    check(all(x["birth"] == birth for x in j.get("residents", [])),
          f"search by birth {birth}: the birth dates")
    # Part of the kana: the most common family name's.
    part = sql1("SELECT substr(kana, 1, instr(kana, ' ') - 1) AS f FROM resident "
                "WHERE instr(kana, ' ') > 2 GROUP BY f ORDER BY count(*) DESC, f LIMIT 1")
    kana = sql1("SELECT kana FROM resident WHERE kana LIKE ? ORDER BY id LIMIT 1", part + " %")
    want = [x[0] for x in sql("SELECT id FROM resident WHERE replace(replace(kana, ' ', ''), "
                              "'　', '') LIKE ? OR replace(replace(name, ' ', ''), '　', '') "
                              "LIKE ? ORDER BY id", f"%{part}%", f"%{part}%")]
    j = cnt.get(q("/api/v1/residents", q=part, limit=200)).json
    eq(sorted(x["id"] for x in j.get("residents", [])), want, f"search by kana '{part}'")
    eq(j.get("truncated"), False, f"search by kana '{part}': not truncated")
    check(len(want) >= 2, f"(data) '{part}' matches several residents", len(want))
    inner = kana.replace(" ", "")[1:3]
    want = [x[0] for x in sql("SELECT id FROM resident WHERE replace(replace(kana, ' ', ''), "
                              "'　', '') LIKE ? OR replace(replace(name, ' ', ''), '　', '') "
                              "LIKE ? ORDER BY id", f"%{inner}%", f"%{inner}%")]
    j = cnt.get(q("/api/v1/residents", q=inner, limit=200)).json
    eq(sorted(x["id"] for x in j.get("residents", [])), want,
       f"search by a middle part of the kana '{inner}'")
    if len(want) >= 2:
        j = cnt.get(q("/api/v1/residents", q=inner, limit=1)).json
        eq((len(j.get("residents", [])), j.get("truncated")), (1, True),
           "search limit=1: one answer, truncated")
    name = sql1("SELECT name FROM resident ORDER BY id LIMIT 1 OFFSET 5")
    fam = name.split()[0]
    want = [x[0] for x in sql("SELECT id FROM resident WHERE replace(name, ' ', '') LIKE ? "
                              "OR replace(kana, ' ', '') LIKE ? ORDER BY id",
                              f"%{fam}%", f"%{fam}%")]
    j = cnt.get(q("/api/v1/residents", q=fam, limit=200)).json
    eq(sorted(x["id"] for x in j.get("residents", [])), want, f"search by name '{fam}'")
    full = sql1("SELECT kana FROM resident WHERE kana LIKE ? ORDER BY id LIMIT 1", part + " %")
    ids = {}
    for variant in (full, full.replace(" ", "　"), full.replace(" ", ""), " " + full + " "):
        ids[variant] = [x["id"] for x in cnt.get(q("/api/v1/residents", q=variant)).json.get(
            "residents", [])]
    want = [x[0] for x in sql("SELECT id FROM resident WHERE replace(replace(kana, ' ', ''), "
                              "'　', '') LIKE ? OR replace(replace(name, ' ', ''), '　', '') "
                              "LIKE ? ORDER BY kana, id", "%" + full.replace(" ", "") + "%",
                              "%" + full.replace(" ", "") + "%")]
    check(all(v == want for v in ids.values()) and want,
          "search: half- and full-width spaces are ignored on both sides", (ids, want))
    j = cnt.get(q("/api/v1/residents", q=part, limit=200)).json
    eq([(x["kana"], x["id"]) for x in j.get("residents", [])],
       sorted((x["kana"], x["id"]) for x in j.get("residents", [])),
       "search: ordered by kana, then id")
    for s in ("%%", "__", "%_"):
        eq(cnt.get(q("/api/v1/residents", q=s)).json.get("residents"), [],
           f"search '{s}': LIKE wildcards are literal")
    eq(cnt.get(q("/api/v1/residents", q="999999")).json.get("residents"), [],
       "search an unknown id: no resident")
    # The detail of a few residents against the store.
    t = today_jst()
    ids = [x[0] for x in sql("SELECT id FROM resident ORDER BY id LIMIT 6")]
    ids += [x[0] for x in sql("SELECT resident FROM holder_cert WHERE serial IN "
                              "(SELECT serial FROM revocation) LIMIT 2")]
    ids += [x[0] for x in sql("SELECT id FROM resident WHERE nationality IS NOT NULL LIMIT 1")]
    ids += [x[0] for x in sql("SELECT id FROM resident WHERE id NOT IN "
                              "(SELECT resident FROM card) LIMIT 1")]
    for rid in ids:
        r = cnt.get(f"/api/v1/residents/{rid}")
        j = r.json
        row = resident_row(rid)
        res = j.get("resident", {})
        want = {"id": rid, "name": row["name"], "kana": row["kana"], "sex": row["sex"],
                "birth": row["birth"], "birth_wareki": wk(row["birth"]),
                "age": age_on(d(row["birth"]), t), "address": row["address"],
                "postal_code": row["postal_code"], "municipality": row["municipality"],
                "nationality": row["nationality"], "stay_expires": row["stay_expires"],
                "adult_ward": bool(row["adult_ward"]), "status": row["status"],
                "status_on": row["status_on"]}
        eq(res, want, f"resident {rid}: = the store")
        cards = sql("SELECT serial, municipality, issued, expires, state, state_on FROM card "
                    "WHERE resident = ? ORDER BY serial", rid)
        eq(sorted((c["serial"], c["municipality"], c["issued"], c["expires"], c["state"],
                   c["state_on"]) for c in j.get("cards", [])), sorted(cards),
           f"resident {rid}: cards = the store")
        check(all(c["expires_wareki"] == wk(c["expires"]) for c in j.get("cards", [])),
              f"resident {rid}: cards' 和暦")
        certs = sql("SELECT h.serial, h.kind, h.card, h.issued, h.expires, v.reason "
                    "FROM holder_cert h LEFT JOIN revocation v ON v.serial = h.serial "
                    "WHERE h.resident = ? ORDER BY h.serial", rid)
        inv = {v: k for k, v in REASON_CODE.items()}
        want_c = []
        for s, kind, card, issued, expires, reason in certs:
            status = "revoked" if reason is not None else "expired" if d(expires) < t else "good"
            want_c.append((s, kind, card, issued, expires, status,
                           inv.get(reason) if reason is not None else None))
        got_c = sorted((c["serial"], c["kind"], c["card"], c["issued"], c["expires"],
                        c["status"], c["reason"]) for c in j.get("certificates", []))
        eq(got_c, want_c, f"resident {rid}: certificates and statuses = the store")
        for c in j.get("certificates", []):
            if c["status"] == "good":
                f, l = window(d(c["expires"]))
                eq((c["window"] or {}).get("first"), iso(f), f"resident {rid}: cert window")
                eq((c["window"] or {}).get("state"), window_state(d(c["expires"]), t),
                   f"resident {rid}: cert window state")
            else:
                check(c["window"] is None, f"resident {rid}: no window for a {c['status']} cert")
            check((c["revoked_at"] is not None) == (c["status"] == "revoked"),
                  f"resident {rid}: revoked_at only when revoked")
        ren = j.get("renewal", {})
        active = [c for c in cards if c[4] == "active"]
        if row["status"] != "registered":
            eq(ren.get("state"), "not_registered", f"resident {rid}: renewal not_registered")
        elif not active:
            eq(ren.get("state"), "no_card", f"resident {rid}: renewal no_card")
        else:
            good = [c for c in want_c if c[2] == active[0][0] and c[5] == "good"]
            auth = [c for c in good if c[1] == "auth"] or good
            if auth:
                exp = d(auth[0][4])
                state = window_state(exp, t)
                if d(active[0][3]) <= exp and state != "expired":
                    state = "card_renewal"  # the certificates end with the card
                eq((ren.get("state"), ren.get("expires"), ren.get("window_first"),
                    ren.get("card")),
                   (state, auth[0][4], iso(window(exp)[0]), active[0][0]),
                   f"resident {rid}: renewal from the auth certificate")
            else:
                eq(ren.get("state"), "expired", f"resident {rid}: renewal expired (no good cert)")
    is_error(cnt.get("/api/v1/residents/99999999"), 404, "no_resident", "an unknown resident")


def renew_expected(c, today, fresh=False):
    """The new certificates' expiry: the 6th birthday after today when
    renewing inside the auth certificate's window, else the 5th; never after
    the card or the period of stay."""
    n = 6 if not fresh and window_state(c["auth_expires"], today) == "open" else 5
    e = nth_birthday_after(c["birth"], today, n)
    caps = [c["card_expires"]] + ([c["stay"]] if c["stay"] else [])
    return min([e] + caps)


def t_renew():
    section("staff: renew, PINs, pin reset")
    t = today_jst()
    cnt = Staff("counter1", "counter")
    # Residents whose window is open and whose renewal moves the expiry out
    # of it (not capped by a card that expires as soon).
    def opens():
        return [c for c in candidates(window_open=True)
                if window_state(renew_expected(c, t), t) == "not_yet"
                and c["card_expires"] > c["auth_expires"]]
    if not check(len(opens()) >= 3, "(data) three residents whose renewal window is open",
                 len(opens())):
        return
    b = take(opens(), "renewal")
    a = take(opens(), "PIN tests")
    # The detail says open for both.
    for c in (a, b):
        eq(cnt.get(f"/api/v1/residents/{c['id']}").json.get("renewal", {}).get("state"),
           "open", f"resident {c['id']}: renewal.state open")
    certs_fp = lambda: {k: v for k, v in fingerprint().items()  # noqa: E731
                        if k in ("certificate", "holder_cert", "revocation", "card_hash")}
    # A: a wrong PIN, then blocked, unblock, a new PIN.
    before = certs_fp()
    r = cnt.post(f"/api/v1/residents/{a['id']}/renew",
                 {"pins": {"sign": SIGN_PIN, "auth": WRONG_AUTH}})
    is_error(r, 422, "wrong_pin", "renew with a wrong auth PIN")
    check(re.search(r"2", r.json.get("message", "")), "wrong PIN: the tries left are told", r)
    eq(certs_fp(), before, "wrong PIN: nothing issued or revoked")
    for k in range(2):
        r = cnt.post(f"/api/v1/residents/{a['id']}/renew",
                     {"pins": {"sign": SIGN_PIN, "auth": WRONG_AUTH}})
    check(r.status == 422 and r.json.get("error") in ("wrong_pin", "pin_blocked"),
          "third wrong PIN: refused", r)
    r = cnt.post(f"/api/v1/residents/{a['id']}/renew",
                 {"pins": {"sign": SIGN_PIN, "auth": AUTH_PIN}})
    is_error(r, 422, "pin_blocked", "renew with the right PIN after 3 wrong ones")
    eq(certs_fp(), before, "blocked PIN: nothing issued or revoked")
    r = cnt.post(f"/api/v1/residents/{a['id']}/pin-reset", {"kind": "auth"})
    eq(r.status, 200, "pin-reset auth (unblock): 200")
    eq((r.json.get("operation"), r.json.get("kind"), r.json.get("new_pin"),
        r.json.get("resident"), r.json.get("card")),
       ("pin_reset", "auth", False, a["id"], a["card"]), "pin-reset (unblock): the answer")
    r = cnt.post(f"/api/v1/residents/{a['id']}/pin-reset", {"kind": "auth", "pin": NEW_AUTH_PIN})
    eq((r.status, r.json.get("new_pin")), (200, True), "pin-reset auth with a new PIN")
    r = cnt.post(f"/api/v1/residents/{a['id']}/pin-reset", {"kind": "sign", "pin": NEW_SIGN_PIN})
    eq((r.status, r.json.get("kind")), (200, "sign"), "pin-reset sign with a new PIN")
    eq(certs_fp(), before, "pin-reset: no certificate changed")
    check(sql1("SELECT count(*) FROM resident_event WHERE resident = ? AND kind = 'pin_reset'",
               a["id"]) >= 3, "pin-reset: resident events recorded")
    is_error(cnt.post(f"/api/v1/residents/{a['id']}/renew",
                      {"pins": {"sign": NEW_SIGN_PIN, "auth": AUTH_PIN}}),
             422, "wrong_pin", "renew with the old auth PIN after the reset")
    r = cnt.post(f"/api/v1/residents/{a['id']}/renew",
                 {"pins": {"sign": NEW_SIGN_PIN, "auth": NEW_AUTH_PIN}})
    eq(r.status, 200, "renew with the new PINs: 200")
    # B: the renewal, checked in detail.
    old = {k: s for s, k, _e, _c in good_certs(b["id"])}
    seq0 = sql1("SELECT max(seq) FROM audit_log")
    r = cnt.post(f"/api/v1/residents/{b['id']}/renew",
                 {"pins": {"sign": SIGN_PIN, "auth": AUTH_PIN}, "early": False,
                  "ward_present": False})
    j = r.json
    eq(r.status, 200, "renew in the window: 200")
    want_exp = renew_expected(b, t)
    eq((j.get("operation"), j.get("resident"), j.get("card"), j.get("fresh"), j.get("early")),
       ("renew", b["id"], b["card"], False, False), "renew: the answer")
    issued = {c["kind"]: c for c in j.get("issued", [])}
    eq(sorted(issued), ["auth", "sign"], "renew: two certificates issued")
    for kind, c in issued.items():
        eq((c["issued"], c["expires"], c["status"], c["expires_wareki"]),
           (iso(t), iso(want_exp), "good", wk(want_exp)),
           f"renew: new {kind} certificate issued today, expires {want_exp} "
           "(6th birthday, capped by the card)")
        check(d(c["expires"]) > b["auth_expires"], f"renew: new {kind} expiry > the old one")
        row = sql("SELECT kind, issued, expires, card, resident FROM holder_cert WHERE serial = ?",
                  c["serial"])
        eq(row, [(kind, iso(t), iso(want_exp), b["card"], b["id"])],
           f"renew: new {kind} certificate in the store")
        na = sql1("SELECT not_after FROM certificate WHERE serial = ?", c["serial"])
        eq(dt.datetime.fromtimestamp(na, JST).date(), want_exp,
           f"renew: new {kind} certificate's notAfter on the expiry day (JST)")
    eq(sorted((x["serial"], x["kind"], x["reason"]) for x in j.get("revoked", [])),
       sorted((s, k, "superseded") for k, s in old.items()), "renew: old ones revoked superseded")
    for k, s in old.items():
        eq(sql("SELECT reason FROM revocation WHERE serial = ?", s), [(4,)],
           f"renew: old {k} serial revoked superseded in the store")
    check(sql1("SELECT count(*) FROM audit_log WHERE seq > ? AND actor = 'staff:counter1'",
               seq0) >= 1, "renew: audited with actor staff:counter1")
    for k, s in old.items():
        eq(ocsp_status(k, s, f"OCSP old {k}"), ("revoked", "superseded"),
           f"renew: OCSP says the old {k} certificate is revoked (superseded)")
    for k, c in issued.items():
        eq(ocsp_status(k, c["serial"], f"OCSP new {k}")[0], "good",
           f"renew: OCSP says the new {k} certificate is good")
    ren = cnt.get(f"/api/v1/residents/{b['id']}").json.get("renewal", {})
    eq((ren.get("state"), ren.get("expires")),
       ("card_renewal" if b["card_expires"] <= want_exp else "not_yet", iso(want_exp)),
       "renew: the detail's renewal has the new expiry (not_yet, or card_renewal when "
       "capped by the card)")
    # Certificates capped by a card that ends with them: renewing gains
    # nothing, the registry refuses it (card_renewal).
    cr = [c for c in candidates(window_open=True) if c["card_expires"] <= c["auth_expires"]]
    if cr:
        c = take(cr, "card_renewal")
        eq(cnt.get(f"/api/v1/residents/{c['id']}").json.get("renewal", {}).get("state"),
           "card_renewal", f"resident {c['id']} (card ends with the certificates): "
           "renewal.state card_renewal")
        # docs/HTTP-API.md does not say renew is refused then: either a 422
        # that changes nothing, or certificates that end with the card again.
        cnt.ensure()
        before = fingerprint()
        r = cnt.post(f"/api/v1/residents/{c['id']}/renew",
                     {"pins": {"sign": SIGN_PIN, "auth": AUTH_PIN}}, ensure=False)
        if r.status == 200:
            eq(sorted(x["expires"] for x in r.json.get("issued", [])),
               [iso(c["card_expires"])] * 2,
               "renew capped by the card: the new certificates end with the card")
            print(f"   note: resident {c['id']} in state card_renewal was renewed (200), "
                  "the expiry unchanged")
        else:
            is_error(r, 422, None, "renew capped by the card")
            unchanged(before, fingerprint(), "renew capped by the card")
    # Two renewals of one resident at once: exactly one wins.
    xs = opens()
    if check(xs, "(data) a third resident whose window is open"):
        x = take(xs, "concurrent renewals")
        cnt.ensure()
        results = []
        barrier = threading.Barrier(2)

        def go():
            barrier.wait()
            results.append(cnt.post(f"/api/v1/residents/{x['id']}/renew",
                                    {"pins": {"sign": SIGN_PIN, "auth": AUTH_PIN}},
                                    ensure=False))
        ts = [threading.Thread(target=go) for _ in range(2)]
        for th in ts:
            th.start()
        for th in ts:
            th.join()
        st = sorted((r.status, r.json.get("error")) for r in results)
        check(len(st) == 2 and st[0][0] == 200 and
              st[1] in ((409, "in_progress"), (409, "card_busy"), (422, "not_in_window")),
              "two renewals at once: one 200, the other 409 in_progress/card_busy (or 422 "
              "not_in_window after it)", st)
        eq(sql1("SELECT count(*) FROM holder_cert WHERE resident = ? AND issued = ?", x["id"],
                iso(t)), 2, "two renewals at once: two certificates issued, not four")
        eq(sql1("SELECT count(*) FROM revocation WHERE serial = ?", x["auth"]), 1,
           "two renewals at once: the old auth certificate revoked once")
    # Before the window: refused without early, nothing changes; then early.
    c = take(candidates(min_days=120), "early renewal")
    eq(cnt.get(f"/api/v1/residents/{c['id']}").json.get("renewal", {}).get("state"), "not_yet",
       f"resident {c['id']}: renewal.state not_yet")
    cnt.ensure()
    before = fingerprint()
    r = cnt.post(f"/api/v1/residents/{c['id']}/renew",
                 {"pins": {"sign": SIGN_PIN, "auth": AUTH_PIN}}, ensure=False)
    after = fingerprint()
    is_error(r, 422, "not_in_window", "renew before the window")
    check("--" not in r.json.get("message", "") + r.json.get("message_en", ""),
          "not_in_window: the message speaks of the API, not of CLI options (--early)", r.json)
    unchanged(before, after, "renew before the window")
    r = cnt.post(f"/api/v1/residents/{c['id']}/renew",
                 {"pins": {"sign": SIGN_PIN, "auth": AUTH_PIN}, "early": True})
    want_exp = renew_expected(c, t)
    eq((r.status, r.json.get("early")), (200, True), "renew early: 200, early true")
    eq(sorted((x["kind"], x["expires"]) for x in r.json.get("issued", [])),
       [("auth", iso(want_exp)), ("sign", iso(want_exp))],
       "renew early: the 5th birthday (shorter)")
    check(want_exp <= c["auth_expires"] + dt.timedelta(days=366 * 5),
          "(oracle) early gives the 5th birthday")
    # A fresh issuance: both certificates revoked first.
    sup = Staff("sup1", "supervisor")
    f = take(candidates(min_days=30), "fresh issuance")
    for s, k, _e, _c in good_certs(f["id"]):
        eq(sup.post(f"/api/v1/certificates/{s}/revoke", None).status, 200,
           f"revoke {k} (no body) before a fresh issuance")
        eq(sql("SELECT reason FROM revocation WHERE serial = ?", s), [(0,)],
           f"revoke {k} without a body: reason unspecified")
    eq(cnt.get(f"/api/v1/residents/{f['id']}").json.get("renewal", {}).get("state"), "expired",
       "no good certificate: renewal.state expired")
    r = cnt.post(f"/api/v1/residents/{f['id']}/renew",
                 {"pins": {"sign": SIGN_PIN, "auth": AUTH_PIN}})
    want_exp = renew_expected(f, t, fresh=True)
    eq((r.status, r.json.get("fresh"), r.json.get("revoked")), (200, True, []),
       "renew with no good certificate: a fresh issuance")
    eq(sorted((x["kind"], x["expires"]) for x in r.json.get("issued", [])),
       [("auth", iso(want_exp)), ("sign", iso(want_exp))], "fresh issuance: 5th birthday")


def t_events_revoke():
    section("staff: events and revocation")
    sup = Staff("sup1", "supervisor")
    cnt = Staff("counter1", "counter")
    t = today_jst()
    out = {}
    mv = take(candidates(min_days=30), "move")
    old = {k: s for s, k, _e, _c in good_certs(mv["id"])}
    r = sup.post(f"/api/v1/residents/{mv['id']}/events",
                 {"type": "move", "address": "東京都豊島区南池袋2丁目45番1号",
                  "municipality": "131164", "postal_code": "171-8422"})
    eq(r.status, 200, "move: 200")
    eq([(x["serial"], x["kind"], x["reason"]) for x in r.json.get("revoked", [])],
       [(old["sign"], "sign", "affiliationChanged")], "move: the signing certificate revoked")
    row = resident_row(mv["id"])
    eq((row["address"], row["postal_code"]), ("東京都豊島区南池袋2丁目45番1号", "171-8422"),
       "move: the address in the store")
    out["move"] = [(old["sign"], "sign", "affiliationChanged")]
    eq([k for _s, k, _e, _c in good_certs(mv["id"])], ["auth"], "move: the auth certificate stays")
    rn = take(candidates(min_days=30), "rename")
    old = {k: s for s, k, _e, _c in good_certs(rn["id"])}
    r = sup.post(f"/api/v1/residents/{rn['id']}/events",
                 {"type": "rename", "name": "山田 花子", "kana": "ヤマダ ハナコ"})
    eq(r.status, 200, "rename: 200")
    eq([(x["serial"], x["reason"]) for x in r.json.get("revoked", [])],
       [(old["sign"], "affiliationChanged")], "rename: the signing certificate revoked")
    eq((resident_row(rn["id"])["name"], resident_row(rn["id"])["kana"]),
       ("山田 花子", "ヤマダ ハナコ"), "rename: the name in the store")
    j = cnt.get(q("/api/v1/residents", q="ヤマダハナコ")).json
    check(rn["id"] in [x["id"] for x in j.get("residents", [])], "rename: found by the new kana")
    out["rename"] = [(old["sign"], "sign", "affiliationChanged")]
    dc = take(candidates(min_days=30), "decease")
    old = {k: s for s, k, _e, _c in good_certs(dc["id"])}
    on = iso(t - dt.timedelta(days=1))
    r = sup.post(f"/api/v1/residents/{dc['id']}/events", {"type": "decease", "on": on})
    eq(r.status, 200, "decease: 200")
    eq(sorted((x["serial"], x["reason"]) for x in r.json.get("revoked", [])),
       sorted((s, "cessationOfOperation") for s in old.values()), "decease: both revoked")
    row = resident_row(dc["id"])
    eq((row["status"], row["status_on"]), ("deceased", on), "decease: the status in the store")
    eq(sql1("SELECT state FROM card WHERE serial = ?", dc["card"]), "abolished",
       "decease: the card abolished")
    out["decease"] = [(s, k, "cessationOfOperation") for k, s in old.items()]
    det = cnt.get(f"/api/v1/residents/{dc['id']}").json
    eq(det.get("renewal", {}).get("state"), "not_registered", "decease: renewal not_registered")
    expect_error("an event after decease",
                 lambda: sup.post(f"/api/v1/residents/{dc['id']}/events",
                                  {"type": "rename", "name": "山田 次郎", "kana": "ヤマダ ジロウ"},
                                  ensure=False), 422, None, session=sup)
    cnt.ensure()
    before = fingerprint()
    r = cnt.post(f"/api/v1/residents/{dc['id']}/renew",
                 {"pins": {"sign": SIGN_PIN, "auth": AUTH_PIN}}, ensure=False)
    unchanged(before, fingerprint(), "renew after decease")
    # docs/HTTP-API.md: 404 no_card ("a deceased resident has no active
    # card"); jpkid may answer 422 deceased, which says more.
    check((r.status, r.json.get("error")) in ((404, "no_card"), (422, "deceased")),
          "renew after decease: 404 no_card or 422 deceased", r)
    is_error(r, r.status, None, "renew after decease")
    cl = take(candidates(min_days=30), "card lost")
    old = {k: s for s, k, _e, _c in good_certs(cl["id"])}
    r = sup.post(f"/api/v1/residents/{cl['id']}/events", {"type": "card_lost"})
    eq(r.status, 200, "card_lost: 200")
    eq(sorted((x["serial"], x["reason"]) for x in r.json.get("revoked", [])),
       sorted((s, "keyCompromise") for s in old.values()), "card_lost: both revoked keyCompromise")
    eq(sql1("SELECT state FROM card WHERE serial = ?", cl["card"]), "lost",
       "card_lost: the card is lost in the store")
    eq(cnt.get(f"/api/v1/residents/{cl['id']}").json.get("renewal", {}).get("state"), "no_card",
       "card_lost: renewal no_card")
    out["card_lost"] = [(s, k, "keyCompromise") for k, s in old.items()]
    # Revocation by a supervisor after the pre-signed responses were made:
    # OCSP (cached good just before) says revoked at once.
    adm = Staff("admin1", "admin")
    r = adm.post("/api/v1/ocsp/refresh")
    n_resp = sql1("SELECT count(*) FROM ocsp_response")
    check(r.status == 200 and isinstance(r.json.get("signed"), int) and r.json["signed"] > 0,
          "ocsp refresh: signed N > 0", r)
    check(n_resp >= r.json.get("signed", 1 << 30), "ocsp refresh: the responses are in the store",
          (n_resp, r.json))
    rv = take(candidates(min_days=30), "revoke")
    serial = rv["auth"]
    for k in range(2):
        eq(ocsp_status("auth", serial, "OCSP before revoke", get_form=True)[0], "good",
           f"revoke: OCSP good before ({k + 1})")
    m0 = metric(metrics(), "jpkid_ocsp_responses_total", {"source": "cache"})
    eq(ocsp_status("auth", serial, "OCSP before revoke", get_form=True)[0], "good",
       "revoke: OCSP good before (3)")
    check(metric(metrics(), "jpkid_ocsp_responses_total", {"source": "cache"}) == m0 + 1,
          "OCSP: a repeated GET is served from the cache")
    seq0 = sql1("SELECT max(seq) FROM audit_log")
    r = sup.post(f"/api/v1/certificates/{serial.upper()}/revoke", {"reason": "keyCompromise"})
    eq(r.status, 200, "revoke (serial in upper case): 200")
    eq([(x["serial"], x["kind"], x["reason"]) for x in r.json.get("revoked", [])],
       [(serial, "auth", "keyCompromise")], "revoke: the answer names the certificate")
    eq(r.json.get("resident"), None, "revoke: the answer's resident is null (docs)")
    eq(sql("SELECT reason FROM revocation WHERE serial = ?", serial), [(1,)],
       "revoke: in the store (keyCompromise)")
    check(sql1("SELECT count(*) FROM audit_log WHERE seq > ? AND actor = 'staff:sup1'", seq0) >= 1,
          "revoke: audited with actor staff:sup1")
    eq(ocsp_status("auth", serial, "OCSP after revoke", get_form=True),
       ("revoked", "key_compromise"), "revoke: OCSP (the same GET) says revoked at once")
    x = ocsp.load_der_ocsp_response(ocsp_post("auth", serial).body)
    eq(int(x.revocation_time.replace(tzinfo=dt.timezone.utc).timestamp()),
       sql1("SELECT revoked_at FROM revocation WHERE serial = ?", serial),
       "revoke: OCSP revocationTime = the store's revoked_at")
    det = sup.get(f"/api/v1/residents/{rv['id']}").json
    c = [c for c in det.get("certificates", []) if c["serial"] == serial]
    check(c and c[0]["status"] == "revoked" and c[0]["reason"] == "keyCompromise" and
          parse_instant(c[0]["revoked_at"]).timestamp() ==
          sql1("SELECT revoked_at FROM revocation WHERE serial = ?", serial),
          "revoke: the resident detail shows it revoked (reason, revoked_at)", c)
    eq(ocsp_status("auth", serial, "OCSP after revoke"), ("revoked", "key_compromise"),
       "revoke: OCSP POST says revoked")
    out["revoke"] = [(serial, "auth", "keyCompromise")]
    expect_error("revoke again", lambda: sup.post(f"/api/v1/certificates/{serial}/revoke",
                                                  {"reason": "keyCompromise"}, ensure=False),
                 422, "already_revoked", session=sup)
    expect_error("revoke an unknown serial",
                 lambda: sup.post("/api/v1/certificates/abcdef0123/revoke", {}, ensure=False),
                 404, "no_cert", session=sup)
    # A revocation by another process (jpki on the same store): the watcher.
    ext = take(candidates(min_days=30), "external revoke")
    s2 = [s for s, k, _e, _c in good_certs(ext["id"]) if k == "sign"][0]
    for _ in range(2):
        ocsp_status("sign", s2, "OCSP before the CLI revoke", get_form=True)
    run([JPKI, "--store", DB, "cert", "revoke", "--serial", s2, "--reason", "keyCompromise"])
    deadline = time.monotonic() + 6
    st = None
    while time.monotonic() < deadline:
        st = ocsp_status("sign", s2, "OCSP after the CLI revoke", get_form=True)[0]
        if st == "revoked":
            break
        time.sleep(0.3)
    eq(st, "revoked", "a revocation by jpki in another process shows in OCSP within 6 s")
    out["cli"] = [(s2, "sign", "keyCompromise")]
    # Every revocation above, in OCSP with its reason.
    for what, lst in out.items():
        for s, k, reason in lst:
            eq(ocsp_status(k, s, f"OCSP {what}"), ("revoked", X509_REASON[reason]),
               f"{what}: OCSP says {k} {s[:8]} revoked ({reason})")
    global EVENT_REVOKED
    EVENT_REVOKED = out


EVENT_REVOKED = {}


def t_stats():
    section("staff: expiry stats")
    cnt = Staff("counter1", "counter")
    t = today_jst()

    def expected(start, n):
        rows = []
        for k in range(n):
            m0 = add_months(dt.date(start.year, start.month, 1), k)
            m1 = add_months(m0, 1)
            cnt_k = {kind: sql1("SELECT count(*) FROM holder_cert h WHERE h.kind = ? AND "
                                "h.expires >= ? AND h.expires < ? AND NOT EXISTS (SELECT 1 "
                                "FROM revocation r WHERE r.serial = h.serial)",
                                kind, iso(m0), iso(m1)) for kind in ("sign", "auth")}
            cards = sql1("SELECT count(*) FROM card WHERE state = 'active' AND expires >= ? "
                         "AND expires < ?", iso(m0), iso(m1))
            rows.append({"month": m0.strftime("%Y-%m"), "sign": cnt_k["sign"],
                         "auth": cnt_k["auth"], "cards": cards})
        return rows

    j = cnt.get(q("/api/v1/stats/expiring", months=3)).json
    eq((j.get("from"), j.get("months")), (t.strftime("%Y-%m"), expected(t, 3)),
       "stats: 3 months from this month = SQL counts on the store")
    check(sum(x["sign"] + x["auth"] + x["cards"] for x in j.get("months", [])) > 0,
          "(data) stats: something expires in 3 months")
    j = cnt.get(q("/api/v1/stats/expiring", **{"from": "2027-01", "months": 14})).json
    eq(j.get("months"), expected(d("2027-01-01"), 14), "stats: 2027-01 + 14 months = SQL")
    j = cnt.get("/api/v1/stats/expiring").json
    eq(len(j.get("months", [])), 24, "stats: 24 months by default")


def t_notices():
    section("admin: expiry notices (status, dry run, a run watched to the end, suspend)")
    adm, sup = Staff("admin1", "admin"), Staff("sup1", "supervisor")
    t = today_jst()
    due = add_months(dt.date(t.year, t.month, 1), 2)
    due_s = due.strftime("%Y-%m")
    st = sup.get("/api/v1/notices/status").json
    eq((st.get("due"), [m["expiring"] for m in st.get("months", [])]),
       (due_s, [add_months(dt.date(t.year, t.month, 1), k).strftime("%Y-%m")
                for k in range(3)]),
       "notices status: due = the month after next; months = this month .. due")
    eq(st.get("suspension", {}).get("suspended"), False, "notices: not suspended")
    # The CLI's dry run is the independent count.
    rc, c = cli_json("--store", DB, "notice", "run", "--dry-run", "--expiring", due_s)
    r = adm.post("/api/v1/notices/runs", {"expiring": due_s, "dry_run": True})
    eq((r.status, r.json.get("notices"), r.json.get("by_kind")),
       (200, (c or {}).get("selected"), (c or {}).get("by_kind")),
       "notices dry run = jpki notice run --dry-run")
    eq(sql1("SELECT count(*) FROM notice_run"), 0, "a dry run stores nothing")
    for body, what in (({"expiring": "2027-13"}, "month 13"),
                       ({"expiring": "27-01"}, "a short month"),
                       ({"per_file": 0}, "per_file 0"),
                       ({"dry_run": "yes"}, "dry_run a string"),
                       ({"expiring": 202701}, "a number as month"),
                       ({"expiring": "2027-+1"}, "a signed month"),
                       ({"dry_run": True, "month": "2027-01"}, "an unknown field")):
        expect_error(f"notice run with {what}",
                     lambda: adm.post("/api/v1/notices/runs", body, ensure=False), 400,
                     "bad_input", session=adm)
    far = add_months(due, 1).strftime("%Y-%m")
    expect_error("notice run for a month too far ahead",
                 lambda: adm.post("/api/v1/notices/runs", {"expiring": far}, ensure=False),
                 400, "bad_month", session=adm)
    # Suspended: the run is refused; nothing is stored.
    expect_error("suspend with an unknown field",
                 lambda: adm.post("/api/v1/notices/suspend", {"why": "x"}, ensure=False), 400,
                 "bad_input", session=adm)
    r = adm.post("/api/v1/notices/suspend", {"reason": "テスト"})
    eq((r.status, r.json), (200, {"suspended": True}), "notices suspend: 200")
    expect_error("suspend twice",
                 lambda: adm.post("/api/v1/notices/suspend", {}, ensure=False), 422,
                 "already_suspended", session=adm)
    st = sup.get("/api/v1/notices/status").json
    eq((st["suspension"]["suspended"], st["suspension"]["reason"], st["suspension"]["by"]),
       (True, "テスト", "staff:admin1"), "status shows the suspension, its reason and who")
    r = adm.post("/api/v1/notices/runs", {"expiring": due_s})
    eq(r.status, 202, "a run while suspended starts (and is refused on its thread)")
    cur = wait_notice(sup)
    eq((cur.get("state"), (cur.get("error") or {}).get("code")), ("failed", "suspended"),
       "the run is refused: suspended")
    eq(sql1("SELECT count(*) FROM notice"), 0, "suspended: no notice stored")
    r = adm.post("/api/v1/notices/resume")
    eq((r.status, r.json), (200, {"suspended": False}), "notices resume: 200")
    expect_error("resume when not suspended",
                 lambda: adm.post("/api/v1/notices/resume", ensure=False), 422,
                 "not_suspended", session=adm)
    # A real run, watched to the end.
    r = adm.post("/api/v1/notices/runs", {"expiring": due_s, "per_file": 25})
    eq(r.status, 202, "notice run: 202")
    cur = wait_notice(sup)
    eq(cur.get("state"), "done", f"the run finished ({cur})")
    run = cur.get("run")
    want = sql1("SELECT count(*) FROM notice WHERE run = ? AND state = 'printed'", run)
    eq((cur.get("total"), cur.get("done")), ((c or {}).get("selected"),) * 2,
       "the run drew every letter the dry run counted")
    check(want == (c or {}).get("selected") and want > 0,
          f"(data) {want} notices printed in the store", want)
    j = sup.get(f"/api/v1/notices/runs/{run}").json
    eq((j.get("state"), j.get("notices"), j.get("printed"), j.get("actor")),
       ("done", want, want, "staff:admin1"), "GET the run = the store")
    out = sql1("SELECT out_dir FROM notice_run WHERE id = ?", run)
    check(out.startswith(os.path.join(WORK, "notices")) and
          os.path.exists(os.path.join(out, "manifest.csv")) and
          os.path.exists(os.path.join(out, "municipal-001.pdf")),
          "the letters and the manifest are under --notice-dir", out)
    with open(os.path.join(out, "manifest.csv"), encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    eq(sorted(int(x["notice_id"]) for x in rows),
       [x for (x,) in sql("SELECT id FROM notice WHERE run = ? ORDER BY id", run)],
       "manifest = the run's notices")
    notice_files(adm, sup, run, j, out)
    st = sup.get("/api/v1/notices/status").json
    eq([m["state"] for m in st["months"] if m["expiring"] == due_s], ["done"],
       "status: the due month is done")
    expect_error("GET an unknown run",
                 lambda: sup.get("/api/v1/notices/runs/999999", ensure=False), 404,
                 "no_run", session=sup)
    expect_error("GET a run id that is not a number",
                 lambda: sup.get("/api/v1/notices/runs/x1", ensure=False), 400,
                 "bad_input", session=sup)
    # Again: nothing new to send, no one twice.
    r = adm.post("/api/v1/notices/runs", {"expiring": due_s})
    cur = wait_notice(sup)
    eq((cur.get("state"), cur.get("total")), ("done", 0), "a second run sends nothing new")
    eq(sql1("SELECT count(*) - count(DISTINCT resident) FROM notice"), 0,
       "no resident has two notices")
    # An unfinished run (crashed after its claim) has no files to hand out yet.
    this = today_jst().strftime("%Y-%m")
    part = os.path.join(WORK, "notices-crashed")
    os.makedirs(part)
    p = subprocess.run([JPKI, "--store", DB, "notice", "run", "--expiring", this, "--out",
                        part], capture_output=True, text=True, timeout=120,
                       env=dict(ENV, JPKI_FAILPOINT="notice.after-claim"))
    crashed = sql1("SELECT id FROM notice_run WHERE state = 'running'")
    check(p.returncode < 0 and crashed, "(setup) a run crashed after its claim",
          (p.returncode, p.stderr[-300:]))
    if crashed:
        j = sup.get(f"/api/v1/notices/runs/{crashed}").json
        eq((j.get("state"), j.get("files")), ("running", []),
           "an unfinished run lists no files")
        expect_error("download from an unfinished run",
                     lambda: adm.get(f"/api/v1/notices/runs/{crashed}/files/manifest.csv",
                                     ensure=False), 409, "running", session=adm)
        rc, c = cli_json("--store", DB, "notice", "run", "--expiring", this, "--out", part)
        eq((rc, (c or {}).get("run")), (0, crashed), "(cleanup) the rerun finishes it")


def notice_files(adm, sup, run, j, out):
    """A finished run's files: listed on the run, downloaded by an
    administrator byte for byte as the batch wrote them, each download
    audited; names outside the list, files moved away, other roles refused."""
    with open(os.path.join(out, "summary.json"), encoding="utf-8") as f:
        summary = json.load(f)
    files = j.get("files") or []
    pdfs = [(x["name"], x["series"], x["letters"], x["pages"]) for x in summary["files"]]
    eq([(x.get("name"), x.get("series"), x.get("letters"), x.get("pages")) for x in files],
       pdfs + [("manifest.csv", "manifest", 0, 0), ("summary.json", "summary", 0, 0)],
       "the run's files = summary.json's PDFs, then the manifest and the summary")
    eq(sorted(x["name"] for x in files),
       sorted(n for n in os.listdir(out) if not n.startswith(".")),
       "the run's files = what is in its directory")
    eq([x.get("bytes") for x in files],
       [os.path.getsize(os.path.join(out, x["name"])) for x in files], "sizes = on disk")
    check(len(pdfs) >= 2 and sum(x[2] for x in pdfs if x[1] == "municipal") == j["printed"],
          "(data) letter files cover every printed notice", pdfs)
    before = sql1("SELECT count(*) FROM audit_log WHERE action = 'notice.download'")
    want_type = {"municipal": "application/pdf", "jlis": "application/pdf",
                 "manifest": "text/csv; charset=utf-8; header=present",
                 "summary": "application/json"}
    sha = {x["name"]: x["sha256"] for x in summary["files"]}
    for x in files:
        r = adm.get(x["url"])
        with open(os.path.join(out, x["name"]), "rb") as f:
            disk = f.read()
        eq((r.status, r.header("Content-Type"), r.header("Cache-Control"),
            r.header("Content-Disposition")),
           (200, want_type[x["series"]], "no-store",
            f'attachment; filename="notice-run{run}-{x["name"]}"'),
           f"download {x['name']}: type, no-store, attachment")
        eq(r.body == disk, True, f"download {x['name']}: the bytes on disk")
        if x["name"] in sha:
            eq((r.body[:5], hashlib.sha256(r.body).hexdigest()), (b"%PDF-", sha[x["name"]]),
               f"download {x['name']}: a PDF, summary.json's SHA-256")
    rows = sql("SELECT actor, object, details FROM audit_log WHERE action = "
               "'notice.download' ORDER BY seq")[before:]
    eq([(a, o, json.loads(d)) for a, o, d in rows],
       [("staff:admin1", f"notice-run:{run}",
         {"file": x["name"], "bytes": x["bytes"]}) for x in files],
       "each download is one audit row: who, the run, the file and its size")
    base = f"/api/v1/notices/runs/{run}/files/"
    for name, what in (("nope.pdf", "a name not in the list"),
                       ("municipal-001.pdf.tmp", "a temporary name"),
                       ("municipal-999.pdf", "a letter file the run does not have"),
                       ("..%2F..%2Fstore.sqlite", "an encoded path out of the directory"),
                       ("%2Fetc%2Fpasswd", "an absolute path")):
        r = adm.get(base + name, ensure=True)
        check(r.status == 404 and r.json.get("error") in ("no_file", "not_found"),
              f"download {what}: 404", r)
    expect_error("download from an unknown run",
                 lambda: adm.get("/api/v1/notices/runs/999999/files/manifest.csv",
                                 ensure=False), 404, "no_run", session=adm)
    expect_error("download from a run id that is not a number",
                 lambda: adm.get("/api/v1/notices/runs/1x/files/manifest.csv",
                                 ensure=False), 400, "bad_input", session=adm)
    eq(sql1("SELECT count(*) FROM audit_log WHERE action = 'notice.download'") - before,
       len(files), "refused downloads are not audited")
    # Moved away after printing: listed without a size, a clear 404.
    moved = os.path.join(WORK, "moved.pdf")
    os.rename(os.path.join(out, pdfs[0][0]), moved)
    try:
        j2 = sup.get(f"/api/v1/notices/runs/{run}").json
        eq([x.get("bytes") for x in j2.get("files", []) if x["name"] == pdfs[0][0]], [None],
           "a file moved away: bytes null")
        expect_error("download a file moved away",
                     lambda: adm.get(base + pdfs[0][0], ensure=False), 404, "file_gone",
                     session=adm)
        # A symlink in its place is not followed.
        os.symlink(os.path.join(out, "summary.json"), os.path.join(out, pdfs[0][0]))
        expect_error("download a symlink in place of a letter file",
                     lambda: adm.get(base + pdfs[0][0], ensure=False), 404, "file_gone",
                     session=adm)
        os.unlink(os.path.join(out, pdfs[0][0]))
    finally:
        os.rename(moved, os.path.join(out, pdfs[0][0]))


def wait_notice(sess, limit=120):
    """The status's `current` once the run is no longer running."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        cur = sess.get("/api/v1/notices/status").json.get("current") or {}
        if cur.get("state") != "running":
            return cur
        time.sleep(0.2)
    check(False, "the notice run ended in time")
    return {}


def t_staff_admin():
    section("admin: staff accounts, CRL publish")
    adm = Staff("admin1", "admin")
    r = adm.get("/api/v1/staff")
    rows = sql("SELECT username, role, disabled FROM staff ORDER BY username")
    eq(sorted((x["user"], x["role"], x["disabled"]) for x in r.json.get("staff", [])),
       [(u, ro, bool(di)) for u, ro, di in rows], "staff list = the store")
    rc, c = cli_json("--store", DB, "staff", "list")
    eq(sorted(x["user"] for x in r.json.get("staff", [])),
       sorted(x["user"] for x in (c or {}).get("staff", [])), "staff list = jpki staff list")
    r = adm.post("/api/v1/staff", {"user": "clerk2", "role": "counter", "password": PW["clerk2"]})
    eq((r.status, r.json), (201, {"user": "clerk2", "role": "counter"}), "staff add: 201")
    eq(sql("SELECT role, disabled FROM staff WHERE username = 'clerk2'"), [("counter", 0)],
       "staff add: in the store")
    expect_error("staff add an existing user",
                 lambda: adm.post("/api/v1/staff", {"user": "clerk2", "role": "admin",
                                                    "password": "another-pass-1"},
                                  ensure=False), 409, "user_exists", session=adm)
    for body, what in (({"user": "Bad Name", "role": "counter", "password": "long-enough-1"},
                        "a bad user name"),
                       ({"user": "shorty", "role": "counter", "password": "short"},
                        "a short password"),
                       ({"user": "roley", "role": "boss", "password": "long-enough-1"},
                        "an unknown role"),
                       ({"user": "fieldy", "role": "counter", "password": "long-enough-1",
                         "email": "x@example.org"}, "an unknown field"),
                       ({"user": "nopass", "role": "counter"}, "no password"),
                       ({"user": 7, "role": "counter", "password": "long-enough-1"},
                        "a number as user")):
        expect_error(f"staff add with {what}",
                     lambda: adm.post("/api/v1/staff", body, ensure=False), 400, "bad_input",
                     session=adm)
    clerk = Staff("clerk2", src="127.0.0.8")
    eq(clerk.login().status, 200, "the new account logs in")
    eq(clerk.get("/api/v1/session").status, 200, "the new account's session works")
    expect_error("disable oneself",
                 lambda: adm.post("/api/v1/staff/admin1/disable", ensure=False), 422, "self",
                 session=adm)
    expect_error("disable an unknown user",
                 lambda: adm.post("/api/v1/staff/nobody9/disable", ensure=False), 404,
                 "not_found", session=adm)
    r = adm.post("/api/v1/staff/clerk2/disable")
    eq((r.status, r.json), (200, {"user": "clerk2", "disabled": True}), "disable clerk2: 200")
    eq(sql1("SELECT disabled FROM staff WHERE username = 'clerk2'"), 1,
       "disable: in the store")
    is_error(clerk.get("/api/v1/session", ensure=False), 401, None,
             "the disabled user's session ends")
    r = request("POST", "/api/v1/login", {"user": "clerk2", "password": PW["clerk2"]},
                src="127.0.0.9")
    is_error(r, 401, "bad_credentials", "the disabled user cannot log in")
    eq([x["disabled"] for x in adm.get("/api/v1/staff").json.get("staff", [])
        if x["user"] == "clerk2"], [True], "staff list: clerk2 disabled")
    users = [x["user"] for x in adm.get("/api/v1/staff").json.get("staff", [])]
    eq(users, sorted(users), "staff list: by user name")
    expect_error("staff add a disabled user's name",
                 lambda: adm.post("/api/v1/staff", {"user": "clerk2", "role": "counter",
                                                    "password": "another-pass-1"},
                                  ensure=False), 409, "user_exists", session=adm)
    r = adm.post("/api/v1/staff/clerk2/disable")
    eq((r.status, r.json), (200, {"user": "clerk2", "disabled": True}),
       "disable an account already disabled: 200")
    # `jpki staff disable` in another process ends a session within ~5 s.
    r = adm.post("/api/v1/staff", {"user": "clerk3", "role": "counter", "password": PW["clerk2"]})
    eq(r.status, 201, "staff add clerk3")
    PW["clerk3"] = PW["clerk2"]
    c3 = Staff("clerk3")
    eq(c3.login().status, 200, "clerk3 logs in")
    run([JPKI, "--store", DB, "staff", "disable", "--user", "clerk3"])
    t0, st = time.monotonic(), None
    while time.monotonic() - t0 < 8:
        st = c3.get("/api/v1/session", ensure=False)
        if st.status != 200:
            break
        time.sleep(0.5)
    is_error(st, 401, "login_required", "a session of an account disabled by jpki ends within "
             "8 s")
    j = [x for x in adm.get("/api/v1/staff").json.get("staff", []) if x["user"] == "admin1"]
    check(j and j[0]["last_login"] and abs(parse_instant(j[0]["last_login"]).timestamp()
                                           - time.time()) < 120,
          "staff list: admin1's last_login is recent", j)
    # CRL publish: new numbers; every full CRL and each shard built so far.
    before = {s: n for s, n in sql("SELECT scope, last FROM crl_number")}
    r = adm.post("/api/v1/crl/publish")
    eq(r.status, 200, "crl publish: 200")
    crls = r.json.get("crls", [])
    eq([(c["kind"], c["shard"]) for c in crls[:2]], [("sign", None), ("auth", None)],
       "crl publish: the full sign and auth CRLs first")
    check(all(c["shard"] for c in crls[2:]), "crl publish: then the shards")
    kinds = {(c["kind"], c["shard"]) for c in crls}
    check({("sign", None), ("auth", None)} <= kinds, "crl publish: both full CRLs", kinds)
    for c in crls:
        scope = c["kind"] + ("/" + c["shard"] if c["shard"] else "")
        eq(c["number"], sql1("SELECT last FROM crl_number WHERE scope = ?", scope),
           f"crl publish {scope}: number = the store's")
        check(c["number"] > before.get(scope, 0), f"crl publish {scope}: a new number")
        want = sql1("SELECT count(*) FROM revocation WHERE kind = ? AND not_after >= ?" +
                    (" AND municipality = ?" if c["shard"] else ""),
                    c["kind"], int(time.time()) - 5, *([c["shard"]] if c["shard"] else []))
        eq(c["entries"], want, f"crl publish {scope}: entries = the store's revocations")
    check(sql1("SELECT count(*) FROM audit_log WHERE action = 'crl.publish' AND "
               "actor = 'staff:admin1'") >= 1, "crl publish: audited")


# ---------------------------------------------------------------- bad input


def t_bad_input():
    section("bad input: 4xx, a JSON error, the store unchanged")
    cnt, sup = Staff("counter1", "counter"), Staff("sup1", "supervisor")
    adm = Staff("admin1", "admin")
    rid = take(candidates(min_days=120), "bad input target")["id"]
    pub = [
        ("/api/v1/renewal-window", {}),
        ("/api/v1/renewal-window", {"expires": "2026-02-30"}),
        ("/api/v1/renewal-window", {"expires": "2026-13-01"}),
        ("/api/v1/renewal-window", {"expires": "20260101"}),
        ("/api/v1/renewal-window", {"expires": "abc"}),
        ("/api/v1/renewal-window", {"expires": "2026-01-01", "on": "tomorrow"}),
        ("/api/v1/renewal-window", {"expires": "2026-1-1"}),
        ("/api/v1/renewal-window", {"expires": "10000-01-01"}),
        ("/api/v1/holidays", {"year": "1800"}),
        ("/api/v1/holidays", {"year": "2100"}),
        ("/api/v1/holidays", {"year": "20x6"}),
        ("/api/v1/holidays", {}),
        ("/api/v1/office/open-days", {"count": "0"}),
        ("/api/v1/office/open-days", {"count": "61"}),
        ("/api/v1/office/open-days", {"count": "ten"}),
        ("/api/v1/office/open-days", {"from": "2026-02-29"}),
        ("/api/v1/office", {"date": "yesterday"}),
        ("/api/v1/wareki", {"date": ""}),
        ("/api/v1/wareki", {}),
        ("/api/v1/cert-expiry", {"kind": "both", "birth": "1980-01-01", "issued": "2026-01-01"}),
        ("/api/v1/cert-expiry", {"kind": "sign", "birth": "1980-01-01"}),
        ("/api/v1/cert-expiry", {"kind": "sign", "birth": "1980-01-01", "issued": "1979-01-01"}),
        ("/api/v1/cert-expiry", {"kind": "sign", "birth": "1980-01-01", "issued": "2026-01-01",
                                 "ward": "maybe"}),
        ("/api/v1/cert-expiry", {"kind": "sign", "birth": "1980-01-01", "issued": "2026-01-01",
                                 "feb29": "mar2"}),
        ("/api/v1/card-expiry", {"birth": "1980-01-01", "applied": "2026-01-02",
                                 "issued": "2026-01-01"}),
        ("/api/v1/bring", {"procedure": "fly", "applicant": "self"}),
        ("/api/v1/bring", {"procedure": "renew", "applicant": "friend"}),
        ("/api/v1/reservable", {"expires": "2027-01-10", "now": "garbage"}),
        ("/api/v1/reservable", {}),
        ("/api/v1/guide", {}),
        ("/api/v1/guide", {"expires": "2027-01-10", "birth": "1980-01-01",
                           "issued": "2026-01-01"}),
        ("/api/v1/guide", {"birth": "1980-01-01"}),
        ("/api/v1/guide", {"birth": "1990-01-01", "issued": "1980-01-01"}),
    ]
    for path, params in pub:
        expect_error(f"GET {path} {params}", lambda: get(q(path, **params)), 400, "bad_input")
    # bad_input names the field at fault.
    for path, params, field in (
            ("/api/v1/cert-expiry", {"kind": "auth", "birth": "1980-01-01",
                                     "issued": "2026-01-01", "auth_expires": "2030-01-01"},
             "auth_expires"),
            ("/api/v1/card-expiry", {"birth": "1980-01-01", "applied": "1979-01-01",
                                     "issued": "2026-01-01"}, "applied"),
            ("/api/v1/renewal-window", {"expires": "2026-02-30"}, "expires"),
            ("/api/v1/holidays", {"year": "1800"}, "year")):
        r = get(q(path, **params))
        check(r.status == 400 and r.json.get("message_en", "").startswith(field + ":")
              and r.json.get("message", "").startswith(field + ":"),
              f"GET {path} {params}: bad_input names the field {field}", r.json)
    staff_get = [
        ("/api/v1/residents", {}), ("/api/v1/residents", {"q": ""}),
        ("/api/v1/residents", {"q": "ア"}), ("/api/v1/residents", {"q": "x" * 65}),
        ("/api/v1/residents", {"q": "スズキ", "limit": "0"}),
        ("/api/v1/residents", {"q": "スズキ", "limit": "201"}),
        ("/api/v1/residents", {"q": "スズキ", "limit": "many"}),
        ("/api/v1/stats/expiring", {"months": "99"}),
        ("/api/v1/stats/expiring", {"months": "0"}),
        ("/api/v1/stats/expiring", {"from": "2026-13"}),
        ("/api/v1/stats/expiring", {"from": "1800-01"}),
        ("/api/v1/stats/expiring", {"from": "2026-1"}),
        ("/api/v1/residents/abc", {}), ("/api/v1/residents/0", {}),
        ("/api/v1/residents/-1", {}), ("/api/v1/residents/1.5", {}),
        ("/api/v1/residents/9999999999999999999999", {}),
    ]
    for path, params in staff_get:
        expect_error(f"GET {path} {params}",
                     lambda: cnt.get(q(path, **params) if params else path, ensure=False),
                     400, "bad_input", session=cnt)
    renew = f"/api/v1/residents/{rid}/renew"
    pins = {"sign": SIGN_PIN, "auth": AUTH_PIN}
    posts = [
        (cnt, renew, b'{"pins":', 400, "bad_json", "malformed JSON"),
        (cnt, renew, b"[]", 400, "bad_json", "a JSON array"),
        (cnt, renew, b'"pins"', 400, "bad_json", "a JSON string"),
        (cnt, renew, b'{"pins":{"sign":"ABC123","auth":"1234"},"pins":{}}', 400, "bad_json",
         "a duplicate key"),
        (cnt, renew, {"pins": "ABC123,1234"}, 400, "bad_input", "pins as a string"),
        (cnt, renew, {"pins": pins, "early": "yes"}, 400, "bad_input", "early as a string"),
        (cnt, renew, {"pins": pins, "ward_present": 1}, 400, "bad_input", "ward_present as 1"),
        (cnt, renew, {"pins": pins, "fast": True}, 400, "bad_input", "an unknown field"),
        (cnt, renew, {"pins": {"sign": SIGN_PIN, "auth": 1234}}, 400, "bad_input",
         "the auth PIN as a number"),
        (cnt, renew, {"pins": {"sign": SIGN_PIN, "auth": "12"}}, 400, "bad_input",
         "a 2-digit auth PIN"),
        (cnt, renew, {"pins": {"sign": SIGN_PIN}}, 400, "bad_input", "no auth PIN"),
        (cnt, renew, {"pins": {"juki": AUTH_PIN, "auth": AUTH_PIN}}, 400, "bad_input",
         "a juki PIN"),
        (cnt, renew, {}, 400, "bad_input", "no pins"),
        (cnt, "/api/v1/residents/abc/renew", {"pins": pins}, 400, "bad_input", "id abc"),
        (cnt, "/api/v1/residents/0/renew", {"pins": pins}, 400, "bad_input", "id 0"),
        (cnt, "/api/v1/residents/-1/renew", {"pins": pins}, 400, "bad_input", "id -1"),
        (cnt, "/api/v1/residents/99999999/renew", {"pins": pins}, 404, "no_resident",
         "an unknown resident"),
        (cnt, f"/api/v1/residents/{rid}/pin-reset", {"kind": "foo"}, 400, "bad_input",
         "pin-reset kind foo"),
        (cnt, f"/api/v1/residents/{rid}/pin-reset", {"kind": 1}, 400, "bad_input",
         "pin-reset kind 1"),
        (cnt, f"/api/v1/residents/{rid}/pin-reset", {"kind": "auth", "pin": "1"}, 400,
         "bad_input", "pin-reset a 1-digit auth PIN"),
        (cnt, f"/api/v1/residents/{rid}/pin-reset", {"kind": "sign", "pin": "abc"}, 400,
         "bad_input", "pin-reset a short sign PIN"),
        (cnt, f"/api/v1/residents/{rid}/pin-reset", {"kind": "auth", "pin": 4321}, 400,
         "bad_input", "pin-reset a PIN as a number"),
        (cnt, f"/api/v1/residents/{rid}/pin-reset", {"kind": "auth", "puk": "1"}, 400,
         "bad_input", "pin-reset an unknown field"),
        (cnt, f"/api/v1/residents/{rid}/pin-reset", {}, 400, "bad_input", "pin-reset no kind"),
        (sup, f"/api/v1/residents/{rid}/events", {"type": "fly"}, 400, "bad_input",
         "event type fly"),
        (sup, f"/api/v1/residents/{rid}/events", {}, 400, "bad_input", "event without a type"),
        (sup, f"/api/v1/residents/{rid}/events", {"type": "correct", "sex": "1"}, 400,
         "bad_input", "correct with sex as a string"),
        (sup, f"/api/v1/residents/{rid}/events", {"type": "correct", "sex": 4}, 400,
         "bad_input", "correct with sex 4"),
        (sup, f"/api/v1/residents/{rid}/events", {"type": "correct", "birth": "1980-02-30"},
         400, "bad_input", "correct with a bad birth date"),
        (sup, f"/api/v1/residents/{rid}/events", {"type": "correct"}, 400, "bad_input",
         "correct with nothing"),
        (sup, f"/api/v1/residents/{rid}/events", {"type": "decease", "on": "2026-02-30"}, 400,
         "bad_input", "decease on a bad date"),
        (sup, f"/api/v1/residents/{rid}/events", {"type": "decease"}, 400, "bad_input",
         "decease without a day"),
        (sup, f"/api/v1/residents/{rid}/events", {"type": "move", "municipality": "131164"},
         400, "bad_input", "move without an address"),
        (sup, f"/api/v1/residents/{rid}/events",
         {"type": "move", "address": "東京都豊島区", "municipality": 131164}, 400, "bad_input",
         "move with the municipality as a number"),
        (sup, f"/api/v1/residents/{rid}/events", {"type": "rename", "name": "x", "kana": "ア",
                                                  "why": "typo"}, 400, "bad_input",
         "rename with an unknown field"),
        (sup, f"/api/v1/residents/{rid}/events", {"type": "card_lost", "on": "2026-01-01"}, 400,
         "bad_input", "card_lost with an unknown field"),
        (sup, f"/api/v1/residents/{rid}/events", {"type": "rename", "name": "山田 一郎",
                                                  "kana": "yamada"}, 400, None,
         "rename with a kana that is not katakana"),
        (sup, f"/api/v1/residents/{rid}/events",
         {"type": "decease", "on": iso(today_jst() + dt.timedelta(days=2))}, 400, "bad_input",
         "decease in the future"),
        (sup, f"/api/v1/residents/{rid}/events", {"type": "decease", "on": "1900-01-01"}, 400,
         "bad_input", "decease before birth"),
        (sup, f"/api/v1/residents/{rid}/events",
         {"type": "move", "address": "東京都豊島区東池袋1丁目1番1号", "municipality": "999999"},
         400, "unknown_municipality", "move to a municipality the store does not have"),
        (sup, f"/api/v1/residents/{rid}/events",
         {"type": "move", "address": "東京都豊島区東池袋1丁目1番1号", "postal_code": "1700013"},
         400, "bad_input", "move with a postal code without its hyphen"),
        (cnt, renew, {"pins": {"auth": AUTH_PIN}, "early": True}, 400, "bad_input",
         "renew without the sign PIN (a signing certificate will be issued)"),
        (sup, "/api/v1/certificates/xyz/revoke", {"reason": "keyCompromise"}, 400, "bad_input",
         "revoke serial xyz"),
        (sup, "/api/v1/certificates/" + "a" * 65 + "/revoke", {}, 400, "bad_input",
         "revoke a 65-digit serial"),
        (sup, f"/api/v1/certificates/{'ab' * 8}/revoke", {"reason": "because"}, 400,
         "bad_input", "revoke reason because"),
        (sup, f"/api/v1/certificates/{'ab' * 8}/revoke", {"reason": "certificateHold"}, 400,
         "bad_input", "revoke reason certificateHold"),
        (sup, f"/api/v1/certificates/{'ab' * 8}/revoke", {"reason": "unspecified", "x": 1}, 400,
         "bad_input", "revoke with an unknown field"),
        (None, "/api/v1/login", b"{user:1}", 400, "bad_json", "login malformed JSON"),
        (None, "/api/v1/login", b"[1,2]", 400, "bad_json", "login JSON array"),
        (None, "/api/v1/login", {"user": 5, "password": "x"}, 400, "bad_input",
         "login user as a number"),
        (None, "/api/v1/login", {"user": "counter1"}, 400, "bad_input", "login without password"),
        (adm, "/api/v1/staff", b"{", 400, "bad_json", "staff add malformed JSON"),
    ]
    for sess, path, body, status, code, what in posts:
        hdr = {"Content-Type": "application/json"}
        if sess is None:
            expect_error(what, lambda: request("POST", path, body, headers=hdr), status, code)
        else:
            expect_error(f"{what} ({path})",
                         lambda: sess.post(path, body, ensure=False, headers=hdr), status, code,
                         session=sess)
    # Oversized (Content-Length declared, and chunked without one), wrong type.
    big = json.dumps({"pins": pins, "pad": "x" * 70000}).encode()
    expect_error("a 70 kB body", lambda: cnt.post(renew, big, ensure=False,
                                                  headers={"Content-Type": "application/json"}),
                 413, "body_too_large", session=cnt)
    expect_error("a 70 kB chunked body",
                 lambda: cnt.post(renew, big, ensure=False,
                                  headers={"Content-Type": "application/json",
                                           "Transfer-Encoding": "chunked"}),
                 413, "body_too_large", session=cnt)
    expect_error("a 70 kB login body",
                 lambda: request("POST", "/api/v1/login", big,
                                 headers={"Content-Type": "application/json"}),
                 413, "body_too_large")
    expect_error("renew with Content-Type text/plain",
                 lambda: cnt.post(renew, json.dumps({"pins": pins}), ensure=False,
                                  headers={"Content-Type": "text/plain"}),
                 415, "unsupported_media_type", session=cnt)
    expect_error("login with a form body",
                 lambda: request("POST", "/api/v1/login", "user=counter1&password=x",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"}),
                 415, "unsupported_media_type")
    expect_error("staff add without Content-Type",
                 lambda: adm.post("/api/v1/staff", b'{"user":"ctype1","role":"counter",'
                                  b'"password":"long-enough-1"}', ensure=False),
                 415, "unsupported_media_type", session=adm)
    # Unknown routes and wrong methods.
    for m, path in (("GET", "/api/v1/nope"), ("POST", "/api/v1/nope"), ("GET", "/api/v2/guide"),
                    ("GET", "/api/v1/residents/1/cards"), ("GET", "/api/v1/"),
                    ("GET", "/api/v1/guide/"), ("GET", "/ca/"), ("GET", "/crl/")):
        r = expect_error(f"{m} {path}", lambda: request(m, path, {} if m == "POST" else None),
                         404, "not_found")
    for m, path, allow in (("DELETE", "/api/v1/staff", "GET, POST"),
                           ("GET", "/api/v1/login", "POST"), ("PUT", "/api/v1/residents/1", "GET"),
                           ("GET", "/api/v1/residents/1/renew", "POST"),
                           ("POST", "/api/v1/guide", "GET"), ("GET", "/ocsp/sign", "POST"),
                           ("PATCH", "/healthz", "GET"), ("POST", "/index.html", "GET")):
        r = expect_error(f"{m} {path}",
                         lambda: request(m, path, {} if m in ("POST", "PUT", "PATCH") else None),
                         405, "method_not_allowed")
        eq(r.header("Allow"), allow, f"{m} {path}: Allow")
        eq(pick_route(m, path), ("405", allow.split(", ")), f"(route table) {m} {path} is a 405")


# ---------------------------------------------------------------- the protocol


def raw_exchange(data, wait=3.0):
    """Sends bytes on one connection and reads until the server closes it
    or is quiet for `wait` seconds."""
    global REQUESTS
    s = socket.create_connection(("127.0.0.1", PORT), timeout=wait)
    out = b""
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        while True:
            x = s.recv(65536)
            if not x:
                break
            out += x
    except (socket.timeout, ConnectionResetError):
        pass
    finally:
        s.close()
    resps = []
    buf = out
    while buf.startswith(b"HTTP/1."):
        head, sep, rest = buf.partition(b"\r\n\r\n")
        if not sep:
            break
        lines = head.decode("latin-1").split("\r\n")
        hs = [tuple(x.split(": ", 1)) for x in lines[1:] if ": " in x]
        n = int(dict((k.lower(), v) for k, v in hs).get("content-length", "0"))
        resps.append(Resp(int(lines[0].split()[1]), hs, rest[:n]))
        buf = rest[n:]
    with COUNT_LOCK:
        REQUESTS += len(resps)
    return resps


def t_protocol():
    section("HTTP: keep-alive, pipelining, limits")
    body = b'{"user":"x","password":"y"}'
    reqs = (b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
            b"POST /api/v1/nope HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s"
            b"GET /api/v1/wareki?date=2019-05-01 HTTP/1.1\r\nHost: t\r\n\r\n") % (len(body), body)
    for m, t in (("GET", "/healthz"), ("POST", "/api/v1/nope"), ("GET", "/api/v1/wareki")):
        record(m, t)
    rs = raw_exchange(reqs, wait=1.5)
    eq([r.status for r in rs], [200, 404, 200], "three pipelined requests on one connection")
    if len(rs) == 3:
        eq(rs[2].json.get("wareki"), "令和元年5月1日", "pipelined: the third answer is its own")
        is_error(rs[1], 404, "not_found", "pipelined: a POST with a body in the middle")
    big = b'{"a":"' + b"x" * 70000 + b'"}'
    req = (b"POST /api/v1/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
           b"Content-Length: %d\r\n\r\n%s" % (len(big), big) +
           b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
    record("POST", "/api/v1/login")
    rs = raw_exchange(req)
    check(rs and rs[0].status == 413, "413 then a pipelined GET: the 413 first", rs)
    if rs:
        is_error(rs[0], 413, "body_too_large", "413 on a kept-alive connection")
        check((rs[0].header("Connection") or "").lower() == "close" or len(rs) == 1 or
              rs[1].status == 200, "after a 413 the rest of the body is never read as a "
              "request (the connection closes)", rs)
    path = "/api/v1/" + "a" * 9000
    r = get(path)
    is_error(r, 414, "uri_too_long", "a 9000-byte path")
    deep = b"[" * 60000
    before = fingerprint()
    r = request("POST", "/api/v1/login", deep, headers={"Content-Type": "application/json"})
    is_error(r, 400, "bad_json", "60000 nested arrays")
    unchanged(before, fingerprint(), "60000 nested arrays")
    eq(get("/healthz").status, 200, "the server still answers after deep nesting")
    r = request("POST", "/api/v1/login", b'{"user":"counter1\\u0000x","password":"y"}',
                headers={"Content-Type": "application/json"})
    check(r.status == 400, "a NUL in a JSON string: 400", r)
    h = request("HEAD", q("/api/v1/holidays", year=2026))
    check(h.status == 200 and h.body == b"" and
          (h.header("Content-Type") or "").startswith("application/json"),
          "HEAD on a GET route: 200, no body", h)
    r = request("OPTIONS", "/api/v1/staff")
    is_error(r, 405, "method_not_allowed", "OPTIONS /api/v1/staff")
    eq(r.header("Allow"), "GET, POST", "OPTIONS /api/v1/staff: Allow")
    for hname, want in (("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
                        ("Cache-Control", "no-store")):
        eq(r.header(hname) if hname != "Cache-Control" else get("/api/v1/nope").header(hname),
           want, f"an API error carries {hname}: {want}")
    c = Staff("counter1")
    c.login()
    r = request("GET", "/api/v1/session",
                headers={"Cookie": f"theme=dark; {c.cookie}; lang=ja"})
    eq(r.status, 200, "the session cookie among other cookies")


# ---------------------------------------------------------------- relying parties


def curl(url, out, headers=None, extra=()):
    global SUBPROCESS_REQUESTS
    SUBPROCESS_REQUESTS += 1
    record("GET", url.split(str(PORT), 1)[1])
    if os.path.exists(out):
        os.unlink(out)
    args = ["curl", "-s", "-g", "--path-as-is", "-D", out + ".h", "-o", out, url, *extra]
    for h in headers or []:
        args += ["-H", h]
    run(args)
    hdr = open(out + ".h", "rb").read().decode("latin-1").split("\r\n")
    status = int(hdr[0].split()[1])
    hs = [tuple(x.split(": ", 1)) for x in hdr[1:] if ": " in x]
    body = open(out, "rb").read() if os.path.exists(out) else b""
    resp = Resp(status, hs, body)
    invariants("GET", url.split(str(PORT), 1)[1], resp)
    return resp


def openssl_ocsp(kind, certs, nonce=True):
    global SUBPROCESS_REQUESTS
    SUBPROCESS_REQUESTS += 1
    record("POST", f"/ocsp/{kind}")
    args = ["openssl", "ocsp", "-url", f"http://127.0.0.1:{PORT}/ocsp/{kind}",
            "-issuer", os.path.join(WORK, f"{kind}-ca.pem"),
            "-CAfile", os.path.join(WORK, "chain.pem")]
    for c in certs:
        args += ["-cert", c]
    if not nonce:
        args.append("-no_nonce")
    p = run(args, check_rc=False)
    return p.returncode, p.stdout + p.stderr


def t_ca():
    section("relying parties: CA certificates")
    pems = []
    for name in ("root", "sign", "auth"):
        r = get(f"/ca/{name}.pem")
        eq((r.status, r.header("Content-Type")), (200, "application/x-pem-file"),
           f"/ca/{name}.pem: 200 PEM")
        c = x509.load_pem_x509_certificate(r.body)
        CA[name] = c
        pems.append(r.body)
        with open(os.path.join(WORK, f"{name}-ca.pem"), "wb") as f:
            f.write(r.body)
        r2 = get(f"/ca/{name}.der")
        eq((r2.status, r2.header("Content-Type")), (200, "application/pkix-cert"),
           f"/ca/{name}.der: 200 DER")
        p = subprocess.run(["openssl", "x509", "-inform", "PEM", "-outform", "DER"],
                           input=r.body, capture_output=True)
        eq(r2.body, p.stdout, f"/ca/{name}.der = openssl x509 -outform DER of the PEM")
        eq(r2.body, sql1("SELECT cert_der FROM ca WHERE name LIKE ? ORDER BY created_at DESC",
                         f"%{name}%"), f"/ca/{name}.der = the store's CA certificate")
    with open(os.path.join(WORK, "chain.pem"), "wb") as f:
        f.write(b"".join(pems))
    for name in ("sign", "auth"):
        p = run(["openssl", "verify", "-CAfile", os.path.join(WORK, "root-ca.pem"),
                 os.path.join(WORK, f"{name}-ca.pem")], check_rc=False)
        check(p.returncode == 0 and "OK" in p.stdout, f"the {name} CA is certified by the root",
              p.stdout + p.stderr)
    for bad in ("/ca/nope.pem", "/ca/root.txt", "/ca/root", "/ca/rootx.der", "/ca/.pem"):
        is_error(get(bad), 404, "not_found", f"GET {bad}")


def t_ocsp():
    section("relying parties: OCSP")
    t = today_jst()
    good = [s for s, in sql("SELECT h.serial FROM holder_cert h JOIN card c ON c.serial = h.card "
                            "AND c.state = 'active' WHERE h.kind = 'sign' AND h.expires > ? AND "
                            "NOT EXISTS (SELECT 1 FROM revocation v WHERE v.serial = h.serial) "
                            "ORDER BY h.serial", iso(t + dt.timedelta(days=30)))]
    revoked = [s for s, in sql("SELECT serial FROM revocation WHERE kind = 'sign' AND "
                               "not_after > ? ORDER BY serial", int(time.time()))]
    auth_good = [s for s, in sql("SELECT h.serial FROM holder_cert h WHERE h.kind = 'auth' AND "
                                 "h.expires > ? AND NOT EXISTS (SELECT 1 FROM revocation v "
                                 "WHERE v.serial = h.serial) ORDER BY h.serial",
                                 iso(t + dt.timedelta(days=30)))]
    if not (check(good and revoked and auth_good, "(data) good and revoked certificates")):
        return
    g, rv = good[0], revoked[0]
    rc, out = openssl_ocsp("sign", [pem_file(g), pem_file(rv)])
    check(rc == 0 and "Response verify OK" in out, "openssl ocsp (POST, nonce): Response verify OK",
          out)
    check(re.search(re.escape(pem_file(g)) + r": good", out), "openssl ocsp: good line", out)
    check(re.search(re.escape(pem_file(rv)) + r": revoked", out), "openssl ocsp: revoked line",
          out)
    check("WARNING" not in out, "openssl ocsp: the nonce is echoed (no warning)", out)
    rc, out = openssl_ocsp("auth", [pem_file(auth_good[0])])
    check(rc == 0 and "Response verify OK" in out and f"{pem_file(auth_good[0])}: good" in out,
          "openssl ocsp: the auth responder for an auth certificate", out)
    # A nonce: echoed, never cached.
    nonce = os.urandom(16)
    r = ocsp_post("sign", g, nonce=nonce)
    resp = ocsp_check(r.body, "sign", "nonce")
    ext = [e for e in resp.extensions if isinstance(e.value, x509.OCSPNonce)]
    check(ext and ext[0].value.nonce == nonce, "OCSP with a nonce: the nonce is echoed")
    eq(r.header("Cache-Control"), "no-store", "OCSP with a nonce: Cache-Control no-store")
    # RFC 5019 GET with curl: the request made by openssl.
    reqf = os.path.join(WORK, "req.der")
    run(["openssl", "ocsp", "-issuer", os.path.join(WORK, "sign-ca.pem"), "-cert",
         pem_file(g), "-no_nonce", "-reqout", reqf])
    der = open(reqf, "rb").read()
    b64 = base64.b64encode(der).decode()
    eq(der, ocsp_request_der("sign", g), "(oracle) openssl's OCSP request = cryptography's")
    # A certificate whose request's base64 holds a '/' (the issuer hashes
    # change with every store; the serials differ).
    slash = [s for s in good[:300] if "/" in base64.b64encode(ocsp_request_der("sign", s)).decode()]
    if check(slash, "(data) a request whose base64 holds a '/'"):
        g = slash[0]
        run(["openssl", "ocsp", "-issuer", os.path.join(WORK, "sign-ca.pem"), "-cert",
             pem_file(g), "-no_nonce", "-reqout", reqf])
        der = open(reqf, "rb").read()
        b64 = base64.b64encode(der).decode()
    m_cache = lambda: metric(metrics(), "jpkid_ocsp_responses_total",  # noqa: E731
                             {"source": "cache"}) or 0
    base = f"http://127.0.0.1:{PORT}/ocsp/sign/"
    r1 = curl(base + urllib.parse.quote(b64, safe=""), os.path.join(WORK, "get1.der"))
    eq((r1.status, r1.header("Content-Type")), (200, "application/ocsp-response"),
       "OCSP GET (percent-encoded): 200")
    resp = ocsp_check(r1.body, "sign", "OCSP GET")
    eq(resp.certificate_status, ocsp.OCSPCertStatus.GOOD, "OCSP GET (percent-encoded): good")
    eq(resp.serial_number, int(g, 16), "OCSP GET: the serial asked")
    now = time.time()
    cc = r1.header("Cache-Control") or ""
    m = re.match(r"^max-age=(\d+), public, no-transform, must-revalidate$", cc)
    if check(m, "OCSP GET: Cache-Control max-age, public, no-transform, must-revalidate", cc):
        nu = resp.next_update.replace(tzinfo=dt.timezone.utc).timestamp()
        check(abs(int(m.group(1)) - (nu - now)) <= 5, "OCSP GET: max-age = nextUpdate - now (±5 s)",
              (m.group(1), nu - now))
    eq(r1.header("Last-Modified"), resp.produced_at.strftime("%a, %d %b %Y %H:%M:%S GMT"),
       "OCSP GET: Last-Modified = producedAt")
    eq(r1.header("Expires"), resp.next_update.strftime("%a, %d %b %Y %H:%M:%S GMT"),
       "OCSP GET: Expires = nextUpdate")
    check(re.match(r'^"[^"]+"$', r1.header("ETag") or ""), "OCSP GET: an ETag", r1.header("ETag"))
    c0 = m_cache()
    r2 = curl(base + b64, os.path.join(WORK, "get2.der"))
    eq((r2.status, r2.body), (200, r1.body), "OCSP GET raw (with '/'): the same response")
    eq(m_cache(), c0 + 1, "OCSP GET again: served from the cache (cache counter +1)")
    eq(r2.header("ETag"), r1.header("ETag"), "OCSP GET from the cache: the same ETag")
    urlsafe = base64.urlsafe_b64encode(der).decode().rstrip("=")
    r3 = curl(base + urlsafe, os.path.join(WORK, "get3.der"))
    eq((r3.status, r3.body), (200, r1.body), "OCSP GET URL-safe base64 without padding")
    # A request whose base64 holds a '+', raw in the path.
    plus = None
    for s in good[:200]:
        b = base64.b64encode(ocsp_request_der("sign", s)).decode()
        if "+" in b:
            plus = (s, b)
            break
    if check(plus, "(data) a request whose base64 holds a '+'"):
        r4 = curl(base + plus[1], os.path.join(WORK, "get4.der"))
        ok = r4.status == 200
        if ok:
            x = ocsp.load_der_ocsp_response(r4.body)
            ok = x.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL and \
                x.serial_number == int(plus[0], 16) and \
                x.certificate_status == ocsp.OCSPCertStatus.GOOD
        check(ok, "OCSP GET raw with '+' in the path: good", r4)
    # A revoked certificate through GET.
    st = ocsp_status("sign", rv, "OCSP GET revoked", get_form=True)
    eq(st[0], "revoked", "OCSP GET: a revoked certificate")
    # The other responder: a signing certificate asked at /ocsp/auth. Either
    # no "good", or an answer a client of the sign hierarchy can verify.
    r = ocsp_post_at("auth", "sign", g)
    x = ocsp_check(r.body, "sign", "a signing certificate at /ocsp/auth")
    check(r.status == 200 and (x.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL
                               or x.certificate_status != ocsp.OCSPCertStatus.GOOD
                               or x.certificates and x.certificates[0].issuer ==
                               CA["sign"].subject),
          "/ocsp/auth never vouches for a signing certificate with the auth hierarchy", r)
    # A serial the CA never issued: unknown; another issuer: unauthorized.
    key = CA_KEY()
    fake = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(
        x509.NameOID.COMMON_NAME, "not issued here")])).issuer_name(CA["sign"].subject)
        .public_key(key.public_key()).serial_number(0x7e57ab1e0000000000000000000001)
        .not_valid_before(dt.datetime(2026, 1, 1)).not_valid_after(dt.datetime(2030, 1, 1))
        .sign(key, hashes.SHA256()))
    other = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(
        x509.NameOID.COMMON_NAME, "another CA")])).issuer_name(x509.Name([
            x509.NameAttribute(x509.NameOID.COMMON_NAME, "another CA")]))
        .public_key(key.public_key()).serial_number(5)
        .not_valid_before(dt.datetime(2026, 1, 1)).not_valid_after(dt.datetime(2030, 1, 1))
        .sign(key, hashes.SHA256()))
    for issuer, want, what in ((CA["sign"], "UNKNOWN", "a serial never issued"),
                               (other, "UNAUTHORIZED", "another issuer")):
        req = ocsp.OCSPRequestBuilder().add_certificate(fake, issuer, hashes.SHA1()).build()
        r = request("POST", "/ocsp/sign", req.public_bytes(serialization.Encoding.DER),
                    headers={"Content-Type": "application/ocsp-request"})
        x = ocsp_check(r.body, "sign", what)
        got = x.response_status.name if x.response_status != \
            ocsp.OCSPResponseStatus.SUCCESSFUL else x.certificate_status.name
        eq((r.status, got), (200, want), f"OCSP for {what}: {want.lower()}")
    # Errors.
    is_error(request("POST", "/ocsp/nope", der, headers={"Content-Type": "application/ocsp-request"}),
             404, "not_found", "POST /ocsp/nope")
    is_error(get("/ocsp/nope/" + b64), 404, "not_found", "GET /ocsp/nope/...")
    is_error(request("POST", "/ocsp/sign", der, headers={"Content-Type": "text/plain"}),
             415, "unsupported_media_type", "OCSP POST with text/plain")
    is_error(request("POST", "/ocsp/sign", der), 415, "unsupported_media_type",
             "OCSP POST without Content-Type")
    is_error(request("POST", "/ocsp/sign", b"", headers={"Content-Type": "application/ocsp-request"}),
             400, "bad_input", "OCSP POST with an empty body")
    is_error(get("/ocsp/sign/!!!notbase64"), 400, "bad_input", "OCSP GET not base64")
    for body, what in ((b"garbage", "garbage"), (b"\x30\x03\x02\x01\x01", "a DER integer"),
                       (der[:-3], "a truncated request")):
        r = request("POST", "/ocsp/sign", body, headers={"Content-Type": "application/ocsp-request"})
        ok = r.status == 200 and r.header("Content-Type") == "application/ocsp-response"
        if ok:
            ok = ocsp.load_der_ocsp_response(r.body).response_status == \
                ocsp.OCSPResponseStatus.MALFORMED_REQUEST
        check(ok, f"OCSP POST {what}: 200 malformedRequest", r)
    r = request("POST", "/ocsp/sign", b"garbage",
                headers={"Content-Type": "application/ocsp-request"})
    eq(r.header("Cache-Control"), "no-store", "an OCSP error response: Cache-Control no-store")
    is_error(get("/ocsp/sign/" + base64.b64encode(b"\x30" * 5000).decode()), 400, "bad_input",
             "OCSP GET of more than 4096 bytes")
    r = request("GET", "/ocsp/sign/" + b64, headers={"If-None-Match": r1.header("ETag") or "x"})
    eq(r.status, 200, "OCSP GET with If-None-Match: 200 (documented: no 304)")
    r = get("/ocsp/sign/" + base64.b64encode(b"garbage").decode())
    check(r.status == 200 and ocsp.load_der_ocsp_response(r.body).response_status ==
          ocsp.OCSPResponseStatus.MALFORMED_REQUEST, "OCSP GET garbage: malformedRequest", r)
    r = request("POST", "/ocsp/sign", b"\x00" * 70000,
                headers={"Content-Type": "application/ocsp-request"})
    is_error(r, 413, "body_too_large", "OCSP POST of 70 kB")


_KEY = []


def CA_KEY():
    """A throw-away RSA key for made-up certificates."""
    if not _KEY:
        from cryptography.hazmat.primitives.asymmetric import rsa
        _KEY.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return _KEY[0]


def ocsp_post_at(responder, kind, serial):
    der = ocsp_request_der(kind, serial)
    return request("POST", f"/ocsp/{responder}", der,
                   headers={"Content-Type": "application/ocsp-request"})


def crl_serials(der):
    crl = x509.load_der_x509_crl(der)
    return crl, {format(e.serial_number, "x").rjust(32, "0"): e for e in crl}


def store_revoked(kind, shard=None):
    rows = sql("SELECT serial, reason FROM revocation WHERE kind = ? AND not_after >= ?" +
               (" AND municipality = ?" if shard else ""), kind, int(time.time()) - 5,
               *([shard] if shard else []))
    return {s.rjust(32, "0"): r for s, r in rows}


CRL_ETAG = {}


def t_crl(stage):
    section(f"relying parties: CRLs ({stage})")
    muni = sql1("SELECT code FROM municipality ORDER BY code LIMIT 1")
    for kind, path, shard in (("sign", "/crl/sign.crl", None), ("auth", "/crl/auth.crl", None),
                              ("sign", f"/crl/sign/{muni}.crl", muni),
                              ("auth", f"/crl/auth/{muni}.crl", muni)):
        out = os.path.join(WORK, path.strip("/").replace("/", "_"))
        r = curl(f"http://127.0.0.1:{PORT}{path}", out)
        eq((r.status, r.header("Content-Type")), (200, "application/pkix-crl"), f"{path}: 200")
        p = run(["openssl", "crl", "-inform", "DER", "-in", out, "-CAfile",
                 os.path.join(WORK, "chain.pem"), "-noout"], check_rc=False)
        check(p.returncode == 0 and "verify OK" in p.stdout + p.stderr,
              f"{path}: openssl crl verify OK", p.stdout + p.stderr)
        crl, got = crl_serials(r.body)
        want = store_revoked(kind, shard)
        eq(set(got), set(want), f"{path}: the serials = the store's revocations")
        inv = {v: k for k, v in REASON_CODE.items()}
        bad = []
        for s, e in got.items():
            try:
                reason = e.extensions.get_extension_for_class(x509.CRLReason).value.reason.name
            except x509.ExtensionNotFound:
                reason = "unspecified"
            if s in want and reason != X509_REASON[inv[want[s]]]:
                bad.append((s, reason, inv[want[s]]))
        check(not bad, f"{path}: reasons = the store's", bad[:3])
        eq(crl.issuer, CA[kind].subject, f"{path}: issued by the {kind} CA")
        etag, lm = r.header("ETag"), r.header("Last-Modified")
        eq(lm, crl.last_update.strftime("%a, %d %b %Y %H:%M:%S GMT"),
           f"{path}: Last-Modified = thisUpdate")
        num = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
        want_etag = f'"{kind}-{shard}-{num}"' if shard else f'"{kind}-{num}"'
        eq(etag, want_etag, f"{path}: ETag = scope and CRL number")
        cc = r.header("Cache-Control") or ""
        mm = re.match(r"^max-age=(\d+)", cc)
        nu = crl.next_update.replace(tzinfo=dt.timezone.utc).timestamp()
        check(mm and abs(int(mm.group(1)) - (nu - time.time())) <= 5,
              f"{path}: max-age up to nextUpdate", cc)
        r304 = curl(f"http://127.0.0.1:{PORT}{path}", out + ".304",
                    headers=[f"If-None-Match: {etag}"])
        eq((r304.status, r304.body), (304, b""), f"{path}: If-None-Match → 304")
        r304 = curl(f"http://127.0.0.1:{PORT}{path}", out + ".ims",
                    headers=[f"If-Modified-Since: {lm}"])
        eq(r304.status, 304, f"{path}: If-Modified-Since → 304")
        r200 = curl(f"http://127.0.0.1:{PORT}{path}", out + ".old",
                    headers=['If-None-Match: "sign-0"'])
        eq(r200.status, 200, f"{path}: another ETag → 200")
        if path == "/crl/sign.crl" and stage == "before":
            # RFC 9110 §13.1.3: a date at or after Last-Modified means not
            # modified.
            later = (crl.last_update + dt.timedelta(hours=1)).strftime(
                "%a, %d %b %Y %H:%M:%S GMT")
            r = curl(f"http://127.0.0.1:{PORT}{path}", out + ".later",
                     headers=[f"If-Modified-Since: {later}"])
            eq(r.status, 304, f"{path}: If-Modified-Since an hour after Last-Modified → 304")
        if stage == "after" and path in CRL_ETAG:
            check(CRL_ETAG[path] != etag, f"{path}: a new ETag after the revocations",
                  (CRL_ETAG[path], etag))
        CRL_ETAG[path] = etag
    if stage == "after":
        allrev = store_revoked("sign") | store_revoked("auth")
        for what, lst in EVENT_REVOKED.items():
            for s, k, _reason in lst:
                check(s.rjust(32, "0") in allrev, f"CRL: {what} revocation {s[:8]} is in the "
                      f"{k} CRL")
    for bad in ("/crl/sign/999999.crl", "/crl/sign/13116.crl", "/crl/nope.crl",
                "/crl/sign.pem", "/crl/nope/131164.crl", "/crl/sign/abcdef.crl",
                "/crl/sign/131164.der"):
        is_error(get(bad), 404, "not_found", f"GET {bad}")


def t_static():
    section("pages and openapi.json")
    r = get("/")
    eq((r.status, (r.header("Content-Type") or "").split(";")[0]), (200, "text/html"), "GET /")
    eq(r.body, open(os.path.join(SRC, "web/index.html"), "rb").read(), "GET / = web/index.html")
    check("default-src 'self'" in (r.header("Content-Security-Policy") or ""), "GET /: a CSP")
    r = get("/counter.html")
    eq((r.status, r.body), (200, open(os.path.join(SRC, "web/counter.html"), "rb").read()),
       "GET /counter.html")
    et = r.header("ETag")
    r = request("GET", "/counter.html", headers={"If-None-Match": et})
    eq(r.status, 304, "GET /counter.html with its ETag: 304")
    for bad in ("/nope.html", "/..%2f..%2fetc%2fpasswd", "/%2e%2e/%2e%2e/etc/passwd",
                "/.git/config", "/css/..%2f..%2fCMakeLists.txt"):
        r = get(bad)
        check(r.status == 404 and b"root:" not in r.body and b"project(" not in r.body,
              f"GET {bad}: 404", r)
    eq(get("/index.html").header("Cache-Control"), "no-cache", "an HTML page: no-cache")
    css = sorted(f for f in os.listdir(os.path.join(SRC, "web/css")) if f.endswith(".css"))
    if css:
        r = get("/css/" + css[0])
        eq((r.status, r.header("Cache-Control"), (r.header("Content-Type") or "").split(";")[0]),
           (200, "max-age=300", "text/css"), f"/css/{css[0]}: max-age=300, text/css")
    for bad in ("/css", "/css/", "/js"):
        is_error(get(bad), 404, "not_found", f"GET {bad} (a directory)")
    r = get("/api/v1/openapi.json")
    eq(r.status, 200, "GET /api/v1/openapi.json: 200")
    eq(r.header("Cache-Control"), "no-cache", "openapi.json: no-cache")
    check((r.header("Content-Type") or "").startswith("application/json"),
          "openapi.json: application/json")
    eq(r.json, API, "GET /api/v1/openapi.json = web/openapi.json")


def t_metrics_labels():
    section("metrics: route labels")
    r = get("/metrics")
    eq(r.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8", "metrics: content type")
    m = r.body.decode()
    for route, code in (("unknown", "413"), ("unknown", "414"), ("not_found", "404"),
                        ("method_not_allowed", "405"), ("api_login", "429"),
                        ("api_login", "401"), ("api_renew", "200"), ("api_renew", "422"),
                        ("api_staff", "403"), ("api_admin", "201"), ("ocsp", "200"),
                        ("crl", "304"), ("ca", "200"), ("static", "200"),
                        ("api_public", "400")):
        check((metric(m, "jpkid_requests_total", {"route": route, "code": code}) or 0) >= 1,
              f"metrics: jpkid_requests_total{{route={route},code={code}}} counted")
    check((metric(m, "jpkid_crl_builds_total") or 0) >= 4, "metrics: CRL builds counted")
    for src in ("cache", "store", "live"):
        check((metric(m, "jpkid_ocsp_responses_total", {"source": src}) or 0) >= 1,
              f"metrics: OCSP answers from the {src}")
    eq(metric(m, "jpkid_store_errors_total"), 0, "metrics: no store errors")


# ---------------------------------------------------------------- stop and logs


def t_stop(graceful=True):
    section("stop jpkid")
    # A request in flight (an early renewal: key generation takes a while)
    # finishes after SIGTERM; new connections are refused.
    inflight, th = [], None
    if graceful:
        try:
            c = take(candidates(min_days=120), "in-flight renewal")
            cnt = Staff("counter1")
            cnt.ensure()
            th = threading.Thread(target=lambda: inflight.append(cnt.post(
                f"/api/v1/residents/{c['id']}/renew",
                {"pins": {"sign": SIGN_PIN, "auth": AUTH_PIN}, "early": True},
                ensure=False)))
            th.start()
            time.sleep(0.08)
        except Exception:  # noqa: BLE001
            check(False, "in-flight renewal", traceback.format_exc())
    PROC.send_signal(signal.SIGTERM)
    if th:
        time.sleep(0.15)
        refused = False
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=2).close()
        except OSError:
            refused = True
        check(refused, "after SIGTERM new connections are refused")
        th.join(60)
        check(inflight and inflight[0].status == 200,
              "a renewal in flight at SIGTERM finishes (200)", inflight)
    stop(PROC, STDERR_PATH, "jpkid", signalled=True)
    log = open(os.path.join(WORK, "access.log"), encoding="utf-8", errors="replace").read()
    lines = log.splitlines()
    eq(len(lines), REQUESTS + SUBPROCESS_REQUESTS,
       f"access log: one line per request ({REQUESTS} + {SUBPROCESS_REQUESTS} by curl/openssl)")
    rx = re.compile(r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+09:00 127\.0\.0\.\d+ '
                    r'"[A-Z]+ [^"]*" \d{3} \d+ [\d.]+ms \S+$')
    bad = [ln for ln in lines if not rx.match(ln)]
    check(not bad, "access log: every line is TIME CLIENT \"METHOD PATH\" STATUS BYTES MS USER",
          bad[:3])
    check(any(ln.endswith(" counter1") and "/renew" in ln for ln in lines),
          "access log: a staff request names the user")
    for s in SECRETS:
        check(s not in log, f"access log: no password or PIN ({s[:3]}...)")
    check(not any(re.search(rf"\b({AUTH_PIN}|{NEW_AUTH_PIN}|{WRONG_AUTH})\b", ln.split('"')[1])
                  for ln in lines if '"' in ln), "access log: no auth PIN in a request line")
    audit = "\n".join(f"{a} {b} {c} {x}" for a, b, c, x in
                      sql("SELECT actor, action, object, details FROM audit_log"))
    for s in SECRETS:
        check(s not in audit, f"audit log: no password or PIN ({s[:3]}...)")
    for s in ("山田", "ヤマダ", "南池袋"):
        check(s not in audit, f"audit log: no name or address from the API events ({s})")
    check("q=" not in log and "%E3%82" not in log,
          "access log: no search text (the query string is not logged)")


def t_coverage():
    section("route coverage")
    for m, pat, _role, _api in ROUTES:
        check((m, pat) in HIT, f"route {m} {pat} was exercised")
    global SCHEMA_FAILS
    for f in SCHEMA_FAILS:
        check(False, "answer matches openapi.json", f)
    for f in INVARIANT_FAILS:
        check(False, "every answer's headers (docs/HTTP-API.md conventions)", f)
    check(INVARIANT_OK > 500, f"headers checked on {INVARIANT_OK} answers", INVARIANT_OK)
    check(SCHEMA_OK > 100, f"openapi.json: {SCHEMA_OK} JSON answers validated", SCHEMA_OK)


# ================================================================ main


def setup():
    global WORK, DB
    section("the store")
    WORK = tempfile.mkdtemp(prefix="jpki-http-")
    DB = os.path.join(WORK, "jpki.db")
    run([JPKI, "--store", DB, "init", "--insecure-no-passphrase", "--history-from",
         "2016-01-01"])
    run([JPKI, "--store", DB, "demo", "seed", "--residents", "200", "--seed", "7"])
    for user, role in (("counter1", "counter"), ("sup1", "supervisor"), ("admin1", "admin"),
                       ("ratelim", "counter"), ("ratelim2", "counter")):
        run([JPKI, "--store", DB, "staff", "add", "--user", user, "--role", role],
            stdin=PW[user] + "\n")
    eq(sql1("SELECT count(*) FROM resident"), 200, "seeded 200 residents")


PROC = None
STDERR_PATH = None


def main():
    load_routes()
    steps = [setup, t_openapi_static, t_start, t_health_metrics, t_ca, t_static,
             t_public_window, t_public_wareki, t_public_guide, t_public_calendar,
             t_public_rules, t_protocol, t_sessions, t_csrf_roles, t_search_detail,
             lambda: t_crl("before"), t_renew, t_events_revoke, t_stats,
             t_staff_admin, t_notices, t_bad_input, t_ocsp, lambda: t_crl("after"),
             t_second_server, t_metrics_labels, t_health_metrics]
    try:
        for step in steps:
            if step is not t_start and PROC is None and step not in (setup, t_openapi_static):
                break
            try:
                step()
            except Exception:  # noqa: BLE001
                check(False, f"{getattr(step, '__name__', 'step')} raised",
                      traceback.format_exc())
                if step in (setup, t_start):
                    break
    finally:
        if PROC is not None:
            try:
                t_stop()
            except Exception:  # noqa: BLE001
                check(False, "stop raised", traceback.format_exc())
                if PROC.poll() is None:
                    PROC.kill()
    if PROC is not None:
        t_coverage()
    took = time.monotonic() - T0
    if not FAILED and WORK:
        shutil.rmtree(WORK, ignore_errors=True)
    elif WORK:
        print(f"kept {WORK} for a look")
    print(f"http.api: {SCHEMA_OK} answers validated against openapi.json, {took:.1f} s")
    print(f"{PASSED} passed, {len(FAILED)} failed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
