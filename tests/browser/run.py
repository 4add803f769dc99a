#!/usr/bin/python3
"""The pages of jpkid in a real browser (tests/browser/e2e.mjs).

Makes a throw-away store (jpki init + demo seed), adds staff accounts
(jpki staff add), starts jpkid on a free port with the source tree's web/
as its web root and the clock pinned (JPKI_NOW), picks residents for the
counter scenarios straight from the store (sqlite3), runs e2e.mjs with node
and playwright-core (installed by npm-install into --npm), and stops jpkid
with SIGTERM at the end, also on failure.

usage: run.py --jpki JPKI --jpkid JPKID --src SRC --npm DIR [--artifacts DIR]
              [--now ISO|real] [--keep]

Screenshots and jpkid's log go to --artifacts (default
<build>/artifacts/browser, <build> being the directory of --jpki); their
paths are printed at the end.
"""

import argparse
import calendar
import datetime as dt
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

# A Friday, so that the demo office is open "today".
DEFAULT_NOW = "2026-11-20T10:00:00+09:00"

PASSWORDS = {
    # user: (role, password)
    "admin": ("admin", "Browser-Admin-Pass-2026"),
    "madoguchi": ("counter", "Browser-Counter-Pass-2026"),
    "hancho": ("supervisor", "Browser-Supervisor-Pass-2026"),
}

JST = dt.timezone(dt.timedelta(hours=9))


def log(msg):
    try:
        print(f"[browser] {msg}", flush=True)
    except BrokenPipeError:   # a closed pipe must not stop the cleanup
        pass


def die_with_parent():
    """In the child: SIGTERM when run.py dies (even by SIGKILL, as on a ctest
    timeout), so that no jpkid outlives the test (Linux PR_SET_PDEATHSIG)."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def run(cmd, env, stdin=None, check=True):
    p = subprocess.run(cmd, env=env, input=stdin, capture_output=True, text=True)
    if check and p.returncode != 0:
        sys.exit(f"[browser] FAILED: {' '.join(cmd)} (exit {p.returncode})\n"
                 f"stdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def add_months(d, n):
    """Same day number n months later, clamped to the month's end (DOMAIN §1)."""
    y, m = divmod(d.month - 1 + n, 12)
    y += d.year
    m += 1
    return dt.date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def window(expires):
    """Renewal window: the day after the date three months before, to the expiry (DOMAIN §2)."""
    return add_months(expires, -3) + dt.timedelta(days=1), expires


def legal_age(birth, on):
    """Legal age on a day: ordinary age on the next day (DOMAIN §1)."""
    d = on + dt.timedelta(days=1)
    return d.year - birth.year - ((d.month, d.day) < (birth.month, birth.day))


def pick_residents(db, today, count, state="open"):
    """Residents whose renewal window is in `state` today (open: open today;
    not_yet: opens at least a week from today): registered, not a ward, no
    period of stay, legally 20 or over, an active card valid beyond the
    certificates, and a good signing and auth certificate on it."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = con.execute(
        """
        SELECT r.id, r.birth, c.serial, c.expires,
               a.serial, a.expires, s.serial, s.expires
          FROM resident r
          JOIN card c ON c.resident = r.id AND c.state = 'active'
          JOIN holder_cert a ON a.card = c.serial AND a.kind = 'auth'
          JOIN holder_cert s ON s.card = c.serial AND s.kind = 'sign'
         WHERE r.status = 'registered' AND r.adult_ward = 0
           AND r.stay_expires IS NULL
           AND a.serial NOT IN (SELECT serial FROM revocation)
           AND s.serial NOT IN (SELECT serial FROM revocation)
         ORDER BY a.expires, r.id
        """).fetchall()
    con.close()
    out = []
    for rid, birth, card, card_exp, aser, aexp, sser, sexp in rows:
        birth_d = dt.date.fromisoformat(birth)
        aexp_d = dt.date.fromisoformat(aexp)
        first, last = window(aexp_d)
        if state == "open" and not (first <= today <= last):
            continue
        if state == "not_yet" and not (today + dt.timedelta(days=7) <= first):
            continue
        if legal_age(birth_d, today) < 20:
            continue
        # Leave a margin: the window opened at least a day ago and the card
        # outlives the certificate, so the renewal is an ordinary one.
        if dt.date.fromisoformat(card_exp) <= aexp_d or sexp != aexp:
            continue
        out.append({"id": rid, "birth": birth, "card": card, "card_expires": card_exp,
                    "auth_serial": aser, "auth_expires": aexp,
                    "sign_serial": sser, "sign_expires": sexp,
                    "window_first": first.isoformat(), "window_last": last.isoformat()})
        if len(out) == count:
            break
    return out


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(base, proc, deadline):
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"jpkid exited with status {proc.returncode}"
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:
                body = json.loads(r.read().decode())
                if r.status == 200 and body.get("status") == "ok":
                    return None
                last = f"/healthz answered {r.status} {body}"
        except (urllib.error.URLError, OSError, ValueError) as e:
            last = str(e)
        time.sleep(0.2)
    return f"jpkid not healthy in time ({last})"


def stop(proc):
    """SIGTERM, then SIGKILL after 10 s. Returns the exit status."""
    if proc.poll() is not None:
        return proc.returncode
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        log("jpkid did not stop within 10 s of SIGTERM; killing it")
        proc.kill()
        return proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jpki", required=True)
    ap.add_argument("--jpkid", required=True)
    ap.add_argument("--src", required=True, help="the source tree (its web/ is served)")
    ap.add_argument("--npm", required=True, help="where npm-install put playwright-core")
    ap.add_argument("--artifacts", help="screenshots and logs (default <build>/artifacts/browser)")
    ap.add_argument("--now", default=DEFAULT_NOW,
                    help=f"JPKI_NOW for jpki and jpkid (default {DEFAULT_NOW}; 'real' for the clock)")
    ap.add_argument("--residents", type=int, default=300)
    ap.add_argument("--keep", action="store_true", help="keep the temporary store")
    args = ap.parse_args()

    jpki = os.path.abspath(args.jpki)
    jpkid = os.path.abspath(args.jpkid)
    src = os.path.abspath(args.src)
    web = os.path.join(src, "web")
    npm = os.path.abspath(args.npm)
    artifacts = os.path.abspath(args.artifacts or os.path.join(
        os.path.dirname(jpki), "artifacts", "browser"))
    for path, what in ((jpki, "--jpki"), (jpkid, "--jpkid")):
        if not os.access(path, os.X_OK):
            sys.exit(f"[browser] {what} {path}: not an executable")
    if not os.path.isfile(os.path.join(web, "index.html")):
        sys.exit(f"[browser] {web}: no index.html")
    if not os.path.isdir(os.path.join(npm, "node_modules", "playwright-core")):
        sys.exit(f"[browser] {npm}: no node_modules/playwright-core (run tests/browser/npm-install)")
    chromium = os.environ.get("JPKI_CHROMIUM", "/usr/bin/chromium")
    if not os.access(chromium, os.X_OK):
        sys.exit(f"[browser] {chromium}: chromium is not installed")
    node = shutil.which("node") or shutil.which("nodejs")
    if not node:
        sys.exit("[browser] node is not installed")

    if os.path.isdir(artifacts):
        for f in os.listdir(artifacts):
            if f.endswith((".png", ".log", ".txt", ".json")):
                os.unlink(os.path.join(artifacts, f))
    os.makedirs(artifacts, exist_ok=True)

    env = dict(os.environ)
    env.pop("JPKI_STORE", None)
    env.pop("JPKI_KEYS", None)
    env.pop("JPKI_CA_PASSPHRASE", None)
    if args.now != "real":
        env["JPKI_NOW"] = args.now
        now = dt.datetime.fromisoformat(args.now)
    else:
        env.pop("JPKI_NOW", None)
        now = dt.datetime.now(JST)
    today = now.astimezone(JST).date()

    tmp = tempfile.mkdtemp(prefix="jpki-browser-")
    db = os.path.join(tmp, "jpki.db")
    proc = proc2 = None
    status = 1
    try:
        log(f"store {db}, today {today}")
        run([jpki, "--store", db, "init", "--insecure-no-passphrase",
             "--history-from", "2016-01-01"], env)
        run([jpki, "--store", db, "demo", "seed", "--residents", str(args.residents)], env)
        for user, (role, pw) in PASSWORDS.items():
            run([jpki, "--store", db, "staff", "add", "--user", user, "--role", role],
                env, stdin=pw + "\n")

        picked = pick_residents(db, today, 2)
        if len(picked) < 2:
            sys.exit(f"[browser] FAILED: fewer than 2 residents with an open window on {today} "
                     f"in the seeded store")
        early = pick_residents(db, today, 1, "not_yet")
        if not early:
            sys.exit(f"[browser] FAILED: no resident whose window opens after {today} in the seeded store")
        picked[0]["role"] = picked[1]["role"] = "open"
        early[0]["role"] = "not_yet"
        picked += early
        log("residents: " + ", ".join(f"{r['id']} (auth expires {r['auth_expires']}, {r['role']})"
                                      for r in picked))

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        jlog = open(os.path.join(artifacts, "jpkid.log"), "w")
        cmd = [jpkid, "--listen", f"127.0.0.1:{port}", "--store", db, "--web-root", web,
               "--notice-dir", os.path.join(os.path.dirname(db), "notices")]
        log("starting " + " ".join(cmd))
        proc = subprocess.Popen(cmd, env=env, stdout=jlog, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)
        err = wait_healthy(base, proc, time.monotonic() + 30)
        if err:
            jlog.flush()
            sys.exit(f"[browser] FAILED: {err}; see {jlog.name}")

        # A second jpkid on the same store whose sessions expire after 2 s
        # of idleness, for the session_expired scenario.
        port2 = free_port()
        short = f"http://127.0.0.1:{port2}"
        cmd2 = [jpkid, "--listen", f"127.0.0.1:{port2}", "--store", db, "--web-root", web,
                "--session-idle", "2"]
        proc2 = subprocess.Popen(cmd2, env=env, stdout=jlog, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)
        err = wait_healthy(short, proc2, time.monotonic() + 30)
        if err:
            jlog.flush()
            sys.exit(f"[browser] FAILED: second jpkid: {err}; see {jlog.name}")

        e2e_env = dict(env)
        e2e_env.update({
            "JPKI_BASE_URL": base,
            "JPKI_SHORT_SESSION_URL": short,
            "JPKI_NPM_DIR": npm,
            "JPKI_ARTIFACTS": artifacts,
            "JPKI_CHROMIUM": chromium,
            "JPKI_TODAY": today.isoformat(),
            "JPKI_USERS": json.dumps({u: {"role": r, "password": p}
                                      for u, (r, p) in PASSWORDS.items()}),
            "JPKI_RESIDENTS": json.dumps(picked),
        })
        e2e = os.path.join(os.path.dirname(os.path.abspath(__file__)), "e2e.mjs")
        log(f"running {e2e} against {base}")
        try:
            p = subprocess.run([node, e2e], env=e2e_env, cwd=npm, timeout=240)
            status = p.returncode
        except subprocess.TimeoutExpired:
            log("FAILED: e2e.mjs did not finish in 240 s")
            status = 1
    finally:
        # Stop both before saying anything (stdout may be gone).
        stopped = [(name, stop(pr)) for name, pr in (("jpkid", proc), ("second jpkid", proc2))
                   if pr is not None]
        for name, rc in stopped:
            log(f"{name} stopped (exit status {rc})")
            if rc != 0:
                log(f"FAILED: {name} exited with {rc} after SIGTERM")
                status = status or 1
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    listing = os.path.join(artifacts, "screenshots.txt")
    if os.path.exists(listing):
        log("screenshots:")
        with open(listing) as f:
            for line in f:
                log("  " + line.rstrip())
    log(f"jpkid log: {os.path.join(artifacts, 'jpkid.log')}")
    log("PASSED" if status == 0 else f"FAILED (status {status})")
    return status


if __name__ == "__main__":
    sys.exit(main())
