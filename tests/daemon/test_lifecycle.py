#!/usr/bin/env python3
"""jpkid's life: start-up refusals (one line, exit 2), the config file,
the graceful stop (a renewal in flight when SIGTERM arrives completes and is
answered; then exit 0 with the store closed), and `make run`'s script
(scripts/run) end to end on a small demo store.

usage: test_lifecycle.py JPKI JPKID SRCDIR"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

JPKI, JPKID, SRC = sys.argv[1:4]
failures = 0
passes = 0


def check(cond, what):
    global failures, passes
    if cond:
        passes += 1
    else:
        failures += 1
        print("FAIL:", what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def call(base, method, path, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null"), r.headers
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null"), e.headers


def wait_up(base, proc, seconds=30):
    end = time.time() + seconds
    while time.time() < end:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.1)
    return False


def jpki(store, *args, stdin=None):
    return subprocess.run([JPKI, "--store", store, *args], input=stdin,
                          capture_output=True, text=True, check=True)


tmp = tempfile.mkdtemp(prefix="jpkid-life-")
store = os.path.join(tmp, "jpki.db")
jpki(store, "init", "--insecure-no-passphrase", "--history-from", "2016-01-01")
jpki(store, "demo", "seed", "--residents", "120", "--seed", "3")
jpki(store, "staff", "add", "--user", "clerk", "--role", "counter",
     stdin="clerk-password-1\n")
jpki(store, "staff", "add", "--user", "chief", "--role", "supervisor",
     stdin="chief-password-1\n")

# ---- start-up refusals: exit 2 and exactly one line on stderr ----
for args, why in [
    (["--store", os.path.join(tmp, "none.db")], "no store"),
    (["--store", store, "--listen", "nohost"], "bad --listen"),
    (["--store", store, "--threads", "0"], "bad --threads"),
    (["--store", store, "--bogus"], "unknown option"),
    (["--store", store, "stray"], "stray argument"),
    (["--store", store, "--office", os.path.join(tmp, "no.ini")], "no office file"),
    (["--store", store, "--config", os.path.join(tmp, "no.conf")], "no config file"),
]:
    r = subprocess.run([JPKID, *args], capture_output=True, text=True, timeout=30)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    check(r.returncode == 2, f"{why}: exit {r.returncode}, want 2")
    check(len(lines) == 1 and lines[0].startswith("jpkid: "),
          f"{why}: want one line, got {lines!r}")
check(not os.path.exists(os.path.join(tmp, "none.db")),
      "jpkid created a store it was only asked to open")

# An encrypted store: a wrong or missing passphrase stops the start.
enc = os.path.join(tmp, "enc.db")
subprocess.run([JPKI, "--store", enc, "init"], check=True, capture_output=True,
               env=dict(os.environ, JPKI_CA_PASSPHRASE="right-passphrase-1"))
for pw, why in [("wrong-passphrase-1", "wrong passphrase"), (None, "no passphrase")]:
    env = dict(os.environ)
    env.pop("JPKI_CA_PASSPHRASE", None)
    if pw:
        env["JPKI_CA_PASSPHRASE"] = pw
    r = subprocess.run([JPKID, "--store", enc, "--listen", "127.0.0.1:0"], env=env,
                       capture_output=True, text=True, timeout=60)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    check(r.returncode == 2 and len(lines) == 1, f"{why}: exit {r.returncode} {lines}")
    check(not pw or pw not in r.stderr, "the passphrase is echoed")

bad_conf = os.path.join(tmp, "bad.conf")
with open(bad_conf, "w") as f:
    f.write("[jpkid]\nthreads = lots\n")
r = subprocess.run([JPKID, "--config", bad_conf], capture_output=True, text=True)
check(r.returncode == 2 and "threads" in r.stderr, f"bad config value: {r.stderr!r}")

# ---- the config file, with the command line over it ----
port = free_port()
conf = os.path.join(tmp, "jpkid.conf")
log = os.path.join(tmp, "access.log")
with open(conf, "w") as f:
    f.write(f"[jpkid]\nlisten = 127.0.0.1:1\nstore = {store}\n"
            f"threads = 1\naccess-log = {log}\n")
err = open(os.path.join(tmp, "jpkid.err"), "w")
proc = subprocess.Popen([JPKID, "--config", conf, "--listen", f"127.0.0.1:{port}"],
                        stderr=err)
base = f"http://127.0.0.1:{port}"
check(wait_up(base, proc), "jpkid from a config file did not come up")

# ---- one thread, one store connection: a revocation made through the
# API on it must reach the OCSP answers that connection's CA remembers ----
def login(user, pw):
    req = urllib.request.Request(base + "/api/v1/login", method="POST",
                                 data=json.dumps({"user": user, "password": pw}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return {"Cookie": r.headers["Set-Cookie"].split(";")[0],
                "X-CSRF-Token": json.loads(r.read())["csrf"]}


import base64
import sqlite3
chief = login("chief", "chief-password-1")
db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
serial, der = db.execute(
    "SELECT c.serial, c.der FROM certificate c JOIN holder_cert h USING (serial) "
    "WHERE c.kind = 'auth' AND c.serial NOT IN (SELECT serial FROM revocation) "
    "AND h.expires > date('now') ORDER BY c.serial DESC LIMIT 1").fetchone()
db.close()
with urllib.request.urlopen(base + "/ca/auth.pem") as r:
    ca_pem = r.read()
with open(os.path.join(tmp, "auth-ca.pem"), "wb") as f:
    f.write(ca_pem)
with open(os.path.join(tmp, "one.der"), "wb") as f:
    f.write(der)
subprocess.run(["openssl", "ocsp", "-issuer", os.path.join(tmp, "auth-ca.pem"), "-cert",
                os.path.join(tmp, "one.der"), "-no_nonce", "-reqout",
                os.path.join(tmp, "req.der")], check=True, capture_output=True)
b64 = base64.b64encode(open(os.path.join(tmp, "req.der"), "rb").read()).decode()
path = "/ocsp/auth/" + urllib.parse.quote(b64, safe="")


def ocsp_text():
    with urllib.request.urlopen(base + path) as r:
        with open(os.path.join(tmp, "resp.der"), "wb") as f:
            f.write(r.read())
    return subprocess.run(["openssl", "ocsp", "-respin", os.path.join(tmp, "resp.der"),
                           "-resp_text", "-noverify"], capture_output=True,
                          text=True).stdout


check("Cert Status: good" in ocsp_text() and "Cert Status: good" in ocsp_text(),
      "OCSP before the revocation")
s, d, _ = call(base, "POST", f"/api/v1/certificates/{serial}/revoke",
               {"reason": "keyCompromise"}, chief)
check(s == 200, f"revoke {s} {d}")
t = ocsp_text()
check("Cert Status: revoked" in t and "keyCompromise" in t,
      "OCSP right after a revocation on the same connection:\n" + t)

# ---- graceful stop with a renewal in flight ----
s, login, _ = call(base, "POST", "/api/v1/login",
                   {"user": "clerk", "password": "clerk-password-1"})
check(s == 200, f"login {s}")
cookie = None
csrf = login.get("csrf") if isinstance(login, dict) else None
# urllib does not keep cookies by itself: log in again by hand for the header.
req = urllib.request.Request(base + "/api/v1/login", method="POST",
                             data=json.dumps({"user": "clerk",
                                              "password": "clerk-password-1"}).encode(),
                             headers={"Content-Type": "application/json"})
with urllib.request.urlopen(req) as r:
    cookie = r.headers["Set-Cookie"].split(";")[0]
    csrf = json.loads(r.read())["csrf"]
hdr = {"Cookie": cookie, "X-CSRF-Token": csrf}

target = None
for rid in range(1, 121):
    s, d, _ = call(base, "GET", f"/api/v1/residents/{rid}", headers=hdr)
    if s == 200 and d["renewal"]["state"] == "open":
        target = (rid, d)
        break
check(target is not None, "no resident with an open window in the demo store")
result = {}


def renew():
    result["answer"] = call(base, "POST", f"/api/v1/residents/{target[0]}/renew",
                            {"pins": {"sign": "ABC123", "auth": "1234"}}, hdr)


if target:
    t = threading.Thread(target=renew)
    t.start()
    time.sleep(0.05)  # the request is in; the card's keys are being made
    proc.send_signal(signal.SIGTERM)
    t.join(120)
    s = result.get("answer", (None,))[0]
    check(s == 200, f"renewal in flight at SIGTERM answered {result.get('answer')}")
try:
    rc = proc.wait(60)
except subprocess.TimeoutExpired:
    proc.kill()
    rc = None
err.close()
errtext = open(os.path.join(tmp, "jpkid.err")).read()
check(rc == 0, f"jpkid exit {rc} after SIGTERM")
check("jpkid: stopped" in errtext, "no 'stopped' line")
check("AddressSanitizer" not in errtext and "runtime error" not in errtext,
      "sanitizer report:\n" + errtext)
if target:
    certs = json.loads(jpki(store, "cert", "list", "--resident", str(target[0]),
                            "--json").stdout)
    if isinstance(certs, dict):
        certs = certs.get("certificates", [])
    good = [c for c in certs if c.get("status") == "good"]
    old = {c["serial"] for c in target[1]["certificates"] if c["status"] == "good"}
    check(good and not ({c["serial"] for c in good} & old),
          "after the stop the store does not hold the renewal's new certificates")
    check(subprocess.run([JPKI, "--store", store, "reconcile"], capture_output=True,
                         text=True).returncode == 0, "reconcile after the stop")
with open(log) as f:
    lines = f.read().splitlines()
check(any('"POST /api/v1/residents/' in l and '" 200 ' in l for l in lines),
      "the renewal is not in the access log")
check(not any("clerk-password-1" in l or "ABC123" in l for l in lines),
      "a secret in the access log")

# ---- scripts/run (make run) on a small store ----
port = free_port()
env = dict(os.environ, JPKI_RUN_STORE=os.path.join(tmp, "run", "jpki.db"),
           JPKID_LISTEN=f"127.0.0.1:{port}", JPKI_DEMO_RESIDENTS="60")
bindir = os.path.dirname(JPKI)
out = open(os.path.join(tmp, "run.out"), "w")
proc = subprocess.Popen([os.path.join(SRC, "scripts", "run"), bindir], env=env,
                        stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
base = f"http://127.0.0.1:{port}"
check(wait_up(base, proc, 180), "scripts/run did not bring jpkid up")
printed = open(os.path.join(tmp, "run.out")).read()
for want in [base + "/", base + "/counter.html", base + "/admin.html",
             "demo-admin-2026"]:
    check(want in printed, f"scripts/run does not print {want!r}")
s, d, _ = call(base, "POST", "/api/v1/login",
               {"user": "admin", "password": "demo-admin-2026"})
check(s == 200 and d.get("role") == "admin", f"demo admin login: {s} {d}")
with urllib.request.urlopen(base + "/") as r:
    page = r.read().decode()
check(r.status == 200 and "<html" in page.lower(), "the resident page is not served")
# Ctrl-C reaches the whole process group.
os.killpg(proc.pid, signal.SIGINT)
try:
    rc = proc.wait(60)
except subprocess.TimeoutExpired:
    os.killpg(proc.pid, signal.SIGKILL)
    rc = None
out.close()
printed = open(os.path.join(tmp, "run.out")).read()
check(rc == 0, f"scripts/run exit {rc} after Ctrl-C")
check("jpkid: stopped" in printed, "no clean stop after Ctrl-C")

print(f"jpkid lifecycle: {passes} passed, {failures} failed")
sys.exit(1 if failures else 0)
