#!/usr/bin/env python3
"""The jpki card commands at their edges (issue 4): bad input (exit 2, one
line, nothing written), refusals (exit 1), PINs never echoed, the lock, the
issuer key of another store, encrypted issuer keys, the audit rows, and
signatures checked with openssl.

usage: test_card_cli.py PATH/TO/jpki SOURCE_DIR
"""
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

JPKI = sys.argv[1]
PINS = {"sign": "ABC123", "auth": "1234", "juki": "5678", "text": "4321"}
ADDR = "東京都豊島区南池袋1-1"
SUBJECT = {"name": "山田 太郎", "name_alt": "00000", "sex": 1, "birth": "1990-04-01",
           "address": ADDR, "address_alt": "0" * len(ADDR), "municipality": "131016"}
PASS = "correct horse battery"
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print(f"  FAILED: {msg}")
    return cond


class Run:
    def __init__(self, cp):
        self.rc, self.out, self.err = cp.returncode, cp.stdout, cp.stderr

    def __repr__(self):
        return f"exit {self.rc}\nstdout: {self.out[:400]!r}\nstderr: {self.err[:400]!r}"


class Env:
    def __init__(self, root, name, passphrase=None):
        self.dir = Path(root) / name
        self.dir.mkdir()
        self.db, self.keys = self.dir / "s.db", self.dir / "keys"
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
        if passphrase:
            self.env["JPKI_CA_PASSPHRASE"] = passphrase
        init = ["ca", "init", "--municipality", "131016:豊島区",
                "--municipality", "141003:横浜市"]
        if not passphrase:
            init.append("--insecure-no-passphrase")
        r = self.jpki(*init)
        if r.rc != 0:
            sys.exit(f"ca init failed: {r}")
        self.file("pins.json", json.dumps(PINS))
        self.file("subject.json", json.dumps(SUBJECT, ensure_ascii=False))

    def file(self, name, data):
        p = self.dir / name
        p.write_bytes(data if isinstance(data, bytes) else data.encode())
        return p

    def jpki(self, *args, stdin=b"", env=None):
        e = dict(self.env)
        e.update(env or {})
        cp = subprocess.run([JPKI, "--store", str(self.db), "--keys", str(self.keys),
                             *map(str, args)], input=stdin, capture_output=True,
                            env=e, timeout=60)
        return Run(cp)

    def status(self, card):
        r = self.jpki("card", "status", "--card", card, "--json")
        return json.loads(r.out) if r.rc == 0 else None

    def issued_card(self, name="card", kinds=("auth", "sign")):
        card = self.dir / name
        r = self.jpki("card", "new", "--out", card, "--pins", self.dir / "pins.json",
                      "--holder", self.dir / "subject.json")
        if not check(r.rc == 0, f"card new: {r}"):
            sys.exit(1)
        for kind in kinds:
            r = self.jpki("card", "keygen", "--card", card, "--kind", kind)
            check(r.rc == 0 and b"BEGIN PUBLIC KEY" in r.out, f"keygen {kind}: {r}")
            pub = self.file(f"{name}-{kind}.pub", r.out)
            r = self.jpki("ca", "issue", "--kind", kind, "--pubkey", pub, "--subject",
                          self.dir / "subject.json", "--expires", "2030-07-07")
            check(r.rc == 0, f"ca issue {kind}: {r}")
            pem = self.file(f"{name}-{kind}.pem", r.out)
            r = self.jpki("card", "write-cert", "--card", card, "--kind", kind, "--cert", pem)
            check(r.rc == 0, f"write-cert {kind}: {r}")
        return card


def no_secret(r, what, secrets=tuple(PINS.values()) + ("9999", "0000")):
    text = r.out + r.err
    for s in secrets:
        check(s.encode() not in text, f"{what}: a PIN appears in the output")


def one_line(r, what):
    check(r.err.count(b"\n") == 1 and r.err.startswith(b"jpki card"),
          f"{what}: expected one 'jpki card ...' line on stderr: {r}")


def case_bad_pin_files(t):
    print("bad PIN files: exit 2, the reason, no card file")
    bad = {
        "auth with a letter": ({**PINS, "auth": "12a4"}, b"auth"),
        "auth too short": ({**PINS, "auth": "123"}, b"auth"),
        "sign without a digit": ({**PINS, "sign": "ABCDEF"}, b"sign"),
        "sign too long": ({**PINS, "sign": "A1" * 9}, b"sign"),
        "text missing": ({k: v for k, v in PINS.items() if k != "text"}, b"text"),
        "unknown field": ({**PINS, "pin": "1234"}, b"unknown field"),
        "number, not string": ({**PINS, "juki": 1234}, b"juki"),
    }
    for label, (pins, word) in bad.items():
        p = t.file("bad.json", json.dumps(pins))
        out = t.dir / "nocard"
        r = t.jpki("card", "new", "--out", out, "--pins", p)
        check(r.rc == 2, f"{label}: exit {r.rc}, want 2: {r}")
        one_line(r, label)
        check(word in r.err, f"{label}: the message does not name {word!r}: {r}")
        check(not out.exists(), f"{label}: a card file was written")
        no_secret(r, label, secrets=("12a4", "ABCDEF", "A1A1A1"))
    for label, data in {"not JSON": b"{\"auth\": \"1234\"", "an array": b"[]"}.items():
        p = t.file("bad.json", data)
        r = t.jpki("card", "new", "--out", t.dir / "nocard", "--pins", p)
        check(r.rc == 2, f"{label}: exit {r.rc}, want 2: {r}")
        no_secret(r, label)
    # A signing PIN may be left out (a card that will carry no signing certificate).
    p = t.file("nosign.json", json.dumps({k: v for k, v in PINS.items() if k != "sign"}))
    r = t.jpki("card", "new", "--out", t.dir / "child", "--pins", p,
               "--holder", t.dir / "subject.json")
    check(r.rc == 0, f"card new without a sign PIN: {r}")
    st = t.status(t.dir / "child")
    check(st and st["pins"]["sign"]["set"] is False and st["pins"]["auth"]["set"] is True,
          f"status of a card without a sign PIN: {st}")
    r = t.jpki("card", "verify-pin", "--card", t.dir / "child", "--kind", "sign",
               stdin=b"ABC123\n")
    check(r.rc == 1 and b"no sign PIN" in r.err, f"verify of an unset PIN: {r}")


def case_new(t):
    print("card new: mode 0600, refuses an existing file, lower-case sign PIN")
    lower = t.file("lower.json", json.dumps({**PINS, "sign": "abc123"}))
    card = t.dir / "lower"
    r = t.jpki("card", "new", "--out", card, "--pins", lower, "--json",
               "--holder", t.dir / "subject.json")
    check(r.rc == 0, f"card new: {r}")
    doc = json.loads(r.out or b"{}")
    check(len(doc.get("serial", "")) == 32 and doc.get("municipality") == "131016",
          f"card new --json: {doc}")
    check(stat.S_IMODE(card.stat().st_mode) == 0o600, "card file mode is not 0600")
    before = card.read_bytes()
    r = t.jpki("card", "new", "--out", card, "--pins", lower,
               "--holder", t.dir / "subject.json")
    check(r.rc == 2 and card.read_bytes() == before, f"card new over an existing file: {r}")
    # Clients upper-case the signing PIN (DOMAIN §3): both spellings work.
    for spelled in (b"ABC123\n", b"abc123\n"):
        r = t.jpki("card", "verify-pin", "--card", card, "--kind", "sign", stdin=spelled)
        check(r.rc == 0, f"verify-pin {spelled!r}: {r}")
    # Two municipalities in this store and no holder: which one is ambiguous.
    r = t.jpki("card", "new", "--out", t.dir / "which", "--pins", t.dir / "pins.json")
    check(r.rc == 2 and b"municipalit" in r.err, f"card new without --holder: {r}")


def case_pins(t, card):
    print("verify-pin: format, countdown, lockout, reset-pin; PINs never echoed")
    r = t.jpki("card", "verify-pin", "--card", card, "--kind", "auth", stdin=b"12a4\n")
    check(r.rc == 2, f"malformed PIN: exit {r.rc}, want 2: {r}")
    check(t.status(card)["pins"]["auth"]["tries_left"] == 3,
          "a malformed PIN was sent to the card (it cost a try)")
    r = t.jpki("card", "verify-pin", "--card", card, "--kind", "auth", "1234")
    check(r.rc == 2 and b"1234" not in r.err, f"a PIN as an argument: {r}")
    for left in (2, 1):
        r = t.jpki("card", "verify-pin", "--card", card, "--kind", "auth", stdin=b"9999\n")
        check(r.rc == 1 and f"{left} tr".encode() in r.err, f"wrong PIN, {left} left: {r}")
        no_secret(r, "wrong PIN")
    r = t.jpki("card", "verify-pin", "--card", card, "--kind", "auth", stdin=b"1234\n")
    check(r.rc == 0 and t.status(card)["pins"]["auth"]["tries_left"] == 3,
          f"a right PIN resets the counter: {r}")
    for _ in range(3):
        r = t.jpki("card", "verify-pin", "--card", card, "--kind", "auth", "--json",
                   stdin=b"0000\n")
    doc = json.loads(r.out or b"{}")
    check(r.rc == 1 and doc.get("blocked") is True and doc.get("tries_left") == 0,
          f"third wrong PIN blocks: {r}")
    r = t.jpki("card", "verify-pin", "--card", card, "--kind", "auth", stdin=b"1234\n")
    check(r.rc == 1 and b"blocked" in r.err, f"right PIN on a blocked card: {r}")
    st = t.status(card)
    check(st["pins"]["auth"] == {"set": True, "tries_left": 0, "max_tries": 3,
                                 "blocked": True}, f"status after lockout: {st['pins']}")
    check(st["pins"]["sign"]["tries_left"] == 5, "the sign PIN was touched")
    r = t.jpki("card", "sign", "--card", card, "--kind", "auth", "--in",
               t.file("d", b"x"), "--out", t.dir / "blocked.sig", stdin=b"1234\n")
    check(r.rc == 1 and not (t.dir / "blocked.sig").exists(), f"sign with a blocked PIN: {r}")
    newpins = t.file("new.json", json.dumps({"auth": "2468"}))
    r = t.jpki("card", "reset-pin", "--card", card, "--kind", "auth", "--pins", newpins)
    check(r.rc == 0, f"reset-pin: {r}")
    no_secret(r, "reset-pin", secrets=("2468",))
    r = t.jpki("card", "verify-pin", "--card", card, "--kind", "auth", stdin=b"2468\n")
    check(r.rc == 0 and t.status(card)["pins"]["auth"]["tries_left"] == 3,
          f"the new PIN after reset-pin: {r}")
    r = t.jpki("card", "verify-pin", "--card", card, "--kind", "auth", stdin=b"1234\n")
    check(r.rc == 1, "the old PIN still works after reset-pin")
    r = t.jpki("card", "reset-pin", "--card", card, "--kind", "juki", "--pins", newpins)
    check(r.rc == 2, f"reset-pin without that kind in the file: {r}")
    # Put the original auth PIN back for the other cases.
    r = t.jpki("card", "reset-pin", "--card", card, "--kind", "auth",
               "--pins", t.dir / "pins.json")
    check(r.rc == 0, f"reset-pin back: {r}")


def case_sign(t, card):
    print("sign: both keys, checked with openssl; wrong PIN writes nothing")
    data = t.file("doc.txt", "請求書 第1号\n".encode() * 100)
    for kind, pin in (("auth", b"1234\n"), ("sign", b"ABC123\n")):
        sig = t.dir / f"{kind}.sig"
        r = t.jpki("card", "sign", "--card", card, "--kind", kind, "--in", data,
                   "--out", sig, stdin=pin)
        check(r.rc == 0 and sig.stat().st_size == 256, f"sign {kind}: {r}")
        pub = t.file(f"{kind}.pk", subprocess.run(
            ["openssl", "x509", "-in", t.dir / f"card-{kind}.pem", "-pubkey", "-noout"],
            capture_output=True).stdout)
        v = subprocess.run(["openssl", "dgst", "-sha256", "-verify", pub, "-signature",
                            sig, data], capture_output=True)
        check(v.returncode == 0, f"openssl does not verify the {kind} signature: {v.stdout}")
    # Each key signed with its own key: the auth signature is not the sign key's.
    v = subprocess.run(["openssl", "dgst", "-sha256", "-verify", t.dir / "sign.pk",
                        "-signature", t.dir / "auth.sig", data], capture_output=True)
    check(v.returncode != 0, "the auth signature verifies with the sign key")
    r = t.jpki("card", "sign", "--card", card, "--kind", "sign", "--in", data,
               "--out", t.dir / "wrong.sig", stdin=b"ZZZ999\n")
    check(r.rc == 1 and not (t.dir / "wrong.sig").exists() and b"4 tries" in r.err,
          f"sign with a wrong PIN: {r}")
    r = t.jpki("card", "verify-pin", "--card", card, "--kind", "sign", stdin=b"ABC123\n")
    check(r.rc == 0, "reset the sign counter")
    r = t.jpki("card", "sign", "--card", card, "--kind", "juki", "--in", data)
    check(r.rc == 2, f"sign --kind juki: {r}")
    r = t.jpki("card", "sign", "--card", card, "--kind", "auth", "--in", t.dir / "missing")
    check(r.rc == 2 and t.status(card)["pins"]["auth"]["tries_left"] == 3,
          f"sign a missing file: {r}")


def case_issuer(t, other, card):
    print("issuer operations: another store's key, a wrong certificate, encryption")
    before = card.read_bytes()
    r = other.jpki("card", "keygen", "--card", card, "--kind", "auth")
    check(r.rc == 1 and b"not issued by" in r.err and card.read_bytes() == before,
          f"keygen with another store: {r}")
    r = other.jpki("card", "reset-pin", "--card", card, "--kind", "auth",
                   "--pins", t.dir / "pins.json")
    check(r.rc == 1 and card.read_bytes() == before, f"reset-pin with another store: {r}")
    r = t.jpki("card", "write-cert", "--card", card, "--kind", "sign",
               "--cert", t.dir / "card-auth.pem")
    check(r.rc == 1 and card.read_bytes() == before, f"write-cert of the wrong key: {r}")
    r = t.jpki("card", "write-cert", "--card", card, "--kind", "auth",
               "--cert", t.dir / "pins.json")
    check(r.rc == 2, f"write-cert of a non-certificate: {r}")
    # A certificate for the card's key from another CA.
    r = other.jpki("ca", "issue", "--kind", "auth", "--pubkey", t.dir / "card-auth.pub",
                   "--subject", t.dir / "subject.json", "--expires", "2030-07-07")
    foreign = t.file("foreign.pem", r.out)
    r = t.jpki("card", "write-cert", "--card", card, "--kind", "auth", "--cert", foreign)
    check(r.rc == 1 and b"not issued by this store" in r.err and card.read_bytes() == before,
          f"write-cert from another CA: {r}")


def case_encrypted(root):
    print("encrypted store: issuer operations need the passphrase")
    e = Env(root, "enc", passphrase=PASS)
    card = e.dir / "card"
    r = e.jpki("card", "new", "--out", card, "--pins", e.dir / "pins.json",
               "--holder", e.dir / "subject.json")
    check(r.rc == 0, f"card new (encrypted store): {r}")
    r = e.jpki("card", "keygen", "--card", card, "--kind", "auth",
               env={"JPKI_CA_PASSPHRASE": ""})
    check(r.rc == 1 and b"passphrase" in r.err.lower(), f"keygen without passphrase: {r}")
    r = e.jpki("card", "keygen", "--card", card, "--kind", "auth",
               env={"JPKI_CA_PASSPHRASE": "wrong passphrase"})
    check(r.rc == 2 and not e.status(card)["keys"]["auth"],
          f"keygen with a wrong passphrase: {r}")
    pf = e.file("pass.txt", PASS + "\n")
    r = e.jpki("card", "keygen", "--card", card, "--kind", "auth", "--passphrase-file", pf,
               env={"JPKI_CA_PASSPHRASE": ""})
    check(r.rc == 0 and e.status(card)["keys"]["auth"], f"keygen --passphrase-file: {r}")
    check(PASS.encode() not in r.out + r.err, "the passphrase appears in the output")


def case_lock_and_damage(t, card):
    print("lock: one process at a time; status reads anyway; damaged files")
    serve = subprocess.Popen([JPKI, "card", "serve", "--card", card, "--vpcd",
                              "127.0.0.1:9"], stderr=subprocess.PIPE, env=t.env)
    try:
        time.sleep(0.5)
        check(serve.poll() is None, "card serve exited (no vpcd is fine: it waits)")
        r = t.jpki("card", "verify-pin", "--card", card, "--kind", "auth", stdin=b"1234\n")
        check(r.rc == 1 and b"in use" in r.err, f"verify-pin while served: {r}")
        check(t.status(card) is not None, "status does not read a served card")
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(10)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait()
    check(serve.returncode == 0, f"card serve on SIGTERM: exit {serve.returncode}")
    r = t.jpki("card", "verify-pin", "--card", card, "--kind", "auth", stdin=b"1234\n")
    check(r.rc == 0, f"verify-pin after serve stopped: {r}")
    bad = t.dir / "damaged"
    data = bytearray(card.read_bytes())
    data[len(data) // 2] ^= 0x01
    bad.write_bytes(bytes(data))
    r = t.jpki("card", "status", "--card", bad)
    check(r.rc == 2 and b"damaged" in r.err, f"a damaged card: {r}")
    one_line(r, "damaged card")
    r = t.jpki("card", "status", "--card", t.dir / "pins.json")
    check(r.rc == 2, f"a file that is not a card: {r}")
    r = t.jpki("card", "status", "--card", t.dir / "absent")
    check(r.rc == 2, f"a missing card: {r}")
    r = t.jpki("card", "serve", "--card", card, "--vpcd", "localhost")
    check(r.rc == 2, f"serve --vpcd without a port: {r}")


def case_audit(t):
    print("audit: issuer operations are in the chain")
    r = subprocess.run(["sqlite3", t.db, "SELECT action FROM audit_log"],
                       capture_output=True, text=True)
    actions = r.stdout.split()
    for a in ("card.new", "card.keygen", "card.write-cert", "card.reset-pin"):
        check(a in actions, f"no {a} audit row: {actions}")
    r = t.jpki("audit", "verify")
    check(r.rc == 0, f"audit verify: {r}")


def main():
    root = tempfile.mkdtemp(prefix="jpki-card-cli-")
    try:
        t = Env(root, "a")
        other = Env(root, "b")
        case_bad_pin_files(t)
        case_new(t)
        card = t.issued_card()
        st = t.status(card)
        check(st and sorted(c["kind"] for c in st["certs"]) == ["auth", "sign"] and
              all(c["expires"] == "2030-07-07" and len(c["serial"]) >= 30
                  for c in st["certs"]), f"status certs: {st}")
        case_pins(t, card)
        case_sign(t, card)
        case_issuer(t, other, card)
        case_encrypted(root)
        case_lock_and_damage(t, card)
        case_audit(t)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("all card CLI checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
