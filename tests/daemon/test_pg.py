#!/usr/bin/env python3
"""jpkid on PostgreSQL (run under tests/pg/pgserver.py, which passes the
database URL in JPKI_TEST_STORE): search, a renewal over HTTP, the old
certificates revoked in OCSP answers (checked by openssl ocsp) and in the
CRL (verified by openssl crl), and the expiry counts equal to SQL counts
taken by psql itself.

usage: test_pg.py JPKI JPKID"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

JPKI, JPKID = sys.argv[1:3]
URL = os.environ["JPKI_TEST_STORE"]
tmp = tempfile.mkdtemp(prefix="jpkid-pg-")
keys = os.path.join(tmp, "keys")
fails = passes = 0


def check(cond, what):
    global fails, passes
    passes += bool(cond)
    if not cond:
        fails += 1
        print("FAIL:", what)


def jpki(*args, stdin=None):
    return subprocess.run([JPKI, "--store", URL, "--keys", keys, *args], input=stdin,
                          capture_output=True, text=True, check=True).stdout


def psql(sql):
    return subprocess.run(["psql", "-At", URL.replace("postgresql://", "postgresql://"),
                           "-c", sql], capture_output=True, text=True,
                          check=True).stdout.strip()


jpki("init", "--insecure-no-passphrase", "--history-from", "2016-01-01")
jpki("demo", "seed", "--residents", "150", "--seed", "5", "--cards",
     os.path.join(tmp, "cards"))
jpki("staff", "add", "--user", "clerk", "--role", "counter", stdin="clerk-password-1\n")

s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
base = f"http://127.0.0.1:{port}"
err = open(os.path.join(tmp, "jpkid.err"), "w")
proc = subprocess.Popen([JPKID, "--listen", f"127.0.0.1:{port}", "--store", URL,
                         "--keys", keys, "--access-log", "off"], stderr=err)
for _ in range(300):
    try:
        urllib.request.urlopen(base + "/healthz", timeout=1)
        break
    except OSError:
        time.sleep(0.1)

hdr = {}


def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=json.dumps(body).encode() if body is not None
                                 else None, headers=dict(hdr))
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read()), r.headers
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read()), e.headers


try:
    st, d, h = call("POST", "/api/v1/login", {"user": "clerk",
                                              "password": "clerk-password-1"})
    check(st == 200, f"login {st}")
    hdr = {"Cookie": h["Set-Cookie"].split(";")[0], "X-CSRF-Token": d["csrf"]}

    # search by part of the kana, against PostgreSQL's own answer
    kana = psql("SELECT replace(kana, ' ', '') FROM resident ORDER BY id LIMIT 1")[:2]
    st, d, _ = call("GET", "/api/v1/residents?q=" + urllib.parse.quote(kana) +
                    "&limit=200")
    want = psql("SELECT count(*) FROM resident WHERE replace(kana, ' ', '') "
                f"LIKE '%{kana}%' OR replace(name, ' ', '') LIKE '%{kana}%'")
    check(st == 200 and len(d["residents"]) == int(want),
          f"search {kana}: {len(d.get('residents', []))} vs {want}")

    # a renewal
    target = None
    for rid in psql("SELECT id FROM resident ORDER BY id").split():
        st, d, _ = call("GET", f"/api/v1/residents/{rid}")
        if st == 200 and d["renewal"]["state"] == "open":
            target = (int(rid), d)
            break
    check(target is not None, "no resident with an open window")
    old = [c for c in target[1]["certificates"] if c["status"] == "good"]
    st, r, _ = call("POST", f"/api/v1/residents/{target[0]}/renew",
                    {"pins": {"sign": "ABC123", "auth": "1234"}})
    check(st == 200 and len(r["issued"]) >= 1, f"renew {st} {r}")
    check({x["serial"] for x in r["revoked"]} == {c["serial"] for c in old},
          "the renewal did not revoke the old certificates")
    for c in old:
        got = psql(f"SELECT reason FROM revocation WHERE serial = '{c['serial']}'")
        check(got == "4", f"{c['serial']} revocation reason {got!r}, want 4")

    # OCSP for an old signing certificate (openssl builds the request)
    sign_old = [c for c in old if c["kind"] == "sign"]
    ca = os.path.join(tmp, "sign.pem")
    root = os.path.join(tmp, "root.pem")
    urllib.request.urlretrieve(base + "/ca/sign.pem", ca)
    urllib.request.urlretrieve(base + "/ca/root.pem", root)
    chain = os.path.join(tmp, "chain.pem")
    with open(chain, "w") as f:
        f.write(open(root).read() + open(ca).read())
    for c in sign_old:
        der = psql(f"SELECT encode(der, 'hex') FROM certificate WHERE serial = '{c['serial']}'")
        pem = os.path.join(tmp, "old.pem")
        subprocess.run(["openssl", "x509", "-inform", "DER", "-out", pem],
                       input=bytes.fromhex(der), check=True)
        o = subprocess.run(["openssl", "ocsp", "-url", base + "/ocsp/sign", "-issuer",
                            ca, "-cert", pem, "-CAfile", chain], capture_output=True,
                           text=True)
        check("Response verify OK" in o.stderr + o.stdout and ": revoked" in o.stdout,
              f"openssl ocsp on the old certificate: {o.stdout} {o.stderr}")
    # the CRL over HTTP
    crl = os.path.join(tmp, "sign.crl")
    urllib.request.urlretrieve(base + "/crl/sign.crl", crl)
    v = subprocess.run(["openssl", "crl", "-inform", "DER", "-in", crl, "-CAfile", chain,
                        "-noout", "-text"], capture_output=True, text=True)
    check("verify OK" in v.stderr + v.stdout, "CRL verify")
    for c in sign_old:
        check(c["serial"].upper().lstrip("0") in v.stdout.upper().replace(":", ""),
              f"{c['serial']} not in the CRL")

    # expiry counts against SQL
    st, d, _ = call("GET", "/api/v1/stats/expiring?months=6")
    for m in d["months"]:
        want = psql("SELECT count(*) FROM holder_cert h WHERE substr(h.expires, 1, 7) = "
                    f"'{m['month']}' AND h.kind = 'auth' AND NOT EXISTS (SELECT 1 FROM "
                    "revocation r WHERE r.serial = h.serial)")
        check(m["auth"] == int(want), f"{m['month']} auth {m['auth']} vs {want}")
finally:
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(60)
    err.close()
    text = open(os.path.join(tmp, "jpkid.err")).read()
    check(rc == 0 and "jpkid: stopped" in text, f"stop: {rc} {text}")
    check("AddressSanitizer" not in text and "runtime error" not in text, text)

print(f"jpkid on PostgreSQL: {passes} passed, {fails} failed")
sys.exit(1 if fails else 0)
