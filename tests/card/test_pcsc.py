#!/usr/bin/python3
"""The virtual card through PC/SC and OpenSC (acceptance test of the card issue).

Usage: /usr/bin/python3 test_pcsc.py JPKI_BINARY SOURCE_DIR
(SOURCE_DIR is not used; the command line is that of the other tests.)

A CA and a card are made with `jpki`, certificates are issued for the card's
keys and written to it, and `jpki card serve` plugs the card into a private
pcscd through the vpcd reader driver (vsmartcard-vpcd). OpenSC's own `jpki`
driver then has to find the card by its ATR and use it as a real
My Number card: pkcs15-tool (objects, certificates, the signing certificate
behind the signing PIN), pkcs11-tool (objects, signatures checked with
openssl), PIN counters and lockout (which must survive a restart of
`card serve` and be undone by `card reset-pin`), and a restart of pcscd under
a running `card serve`.

Needs root (pcscd, a private mount namespace), pcscd, vsmartcard-vpcd, opensc
and openssl; run it with /usr/bin/python3 (Debian's python3-cryptography).
Prints one line per check; the exit status is 1 if any failed, and the tails
of the pcscd log (with its APDU trace) and of the `card serve` log are printed
then. Every process it starts is stopped (SIGTERM, then SIGKILL) and its
temporary directory removed, also when a check fails or it is interrupted
(JPKI_TEST_KEEP=1 keeps the directory, with both logs, for a post-mortem).

The private pcscd. pcsc-lite 1.9.9 (Debian 12) reads PCSCLITE_CSOCK_NAME only
in the client library, not in pcscd: the daemon always binds
/run/pcscd/pcscd.comm and writes /run/pcscd/pcscd.pid (checked: with the
variable set, pcscd still made /run/pcscd/pcscd.comm and the clients then found
no reader). So pcscd runs in its own mount namespace where a directory of this
test is bind-mounted on /run/pcscd (`unshare --mount`, root only); the clients
get PCSCLITE_CSOCK_NAME=<that directory>/pcscd.comm, and a system pcscd, if
any, is left alone (two runs of this test can even overlap). If unshare is not
possible (or JPKI_TEST_PCSCD_SHARED=1), the test uses the default socket and
stops at once if something already answers on it.
Debian's pcscd 1.9.9 is built without polkit (the binary has no polkit code and
no --disable-polkit option), so nothing needs disabling for root; the working
invocation is `pcscd --foreground --apdu --config DIR` (DIR holds a
reader.conf.d entry for vpcd with the test's port). vpcd listens on that port
and the next one (it makes two readers, "NAME 00 00" and "NAME 00 01"); the
card is in the first.

Run time: about 7 s when `card serve` answers at once; vpcd sends each frame's
length and body in two writes without TCP_NODELAY, so a card end that leaves
the kernel's delayed ACK on (no TCP_QUICKACK after each recv) adds about 40 ms
to every APDU, and the run takes about 110 s.
"""
import atexit
import datetime as dt
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

if len(sys.argv) != 3:
    sys.exit(__doc__)
JPKI = os.path.abspath(sys.argv[1])
SOURCE_DIR = sys.argv[2]

ATR = "3b:e0:00:ff:81:31:fe:45:14"
READER_NAME = "Virtual PCD jpki-test"   # FRIENDLYNAME; pcscd appends " 00 00"
READER = READER_NAME + " 00 00"
AUTH_TOKEN = "JPKI (User Authentication PIN)"   # OpenSC: one PKCS#11 slot per PIN
SIGN_TOKEN = "JPKI (Digital Signature PIN)"
PINS = {"sign": "ABC123", "auth": "1234", "juki": "5678", "text": "4321"}
NEW_PINS = {"sign": "XYZ789", "auth": "2468", "juki": "5678", "text": "4321"}
WRONG = {"auth": "0000", "sign": "ABC124"}
MAX_TRIES = {"auth": 3, "sign": 5}
NAME = "山田 太郎"
ADDRESS = "東京都豊島区南池袋1-1"
SUBJECT = {"name": NAME, "name_alt": "0" * len(NAME), "sex": 1, "birth": "1990-04-01",
           "address": ADDRESS, "address_alt": "0" * len(ADDRESS), "municipality": "131016"}
JST = dt.timezone(dt.timedelta(hours=9))
EXPIRES = (dt.datetime.now(JST).date() + dt.timedelta(days=5 * 365)).isoformat()
VPCD_DRIVER = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"
PCSCD_RUN = Path("/run/pcscd")
# OpenSC: (a) its defaults, all card drivers (the card must be found among
# them by its ATR); (b) only the jpki driver, for the many short runs of the
# PIN checks (every other driver's probe costs round trips). Both without the
# file cache; neither depends on /etc/opensc/opensc.conf or the user's home.
OPENSC_CONF_DEFAULT = "app default {\n\tframework pkcs15 {\n\t\tuse_file_caching = no;\n\t}\n}\n"
OPENSC_CONF_JPKI = ("app default {\n\tcard_drivers = jpki;\n\tframework pkcs15 {\n"
                    "\t\tuse_file_caching = no;\n\t}\n}\n")
T0 = time.time()


# ---------------------------------------------------------------- framework

class Abort(Exception):
    """A precondition of the rest of the test failed (already recorded)."""


FAILURES = []
CHECKS = [0]


def check(cond, what, detail=""):
    CHECKS[0] += 1
    if cond:
        print(f"ok    {what}", flush=True)
    else:
        print(f"FAIL  {what}", flush=True)
        FAILURES.append(what + (("\n" + detail) if detail else ""))
    return bool(cond)


def eq(got, want, what, detail=""):
    return check(got == want, what,
                 f"expected {want!r}, got {got!r}" + (("\n" + detail) if detail else ""))


def need(cond, what, detail=""):
    if not check(cond, what, detail):
        raise Abort()


def section(title):
    print(f"-- {title}  [{time.time() - T0:.1f}s]", flush=True)


class Proc:
    def __init__(self, argv, rc, out, err):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err

    @property
    def text(self):
        return self.out.decode("utf-8", "replace")

    @property
    def etext(self):
        return self.err.decode("utf-8", "replace")

    def show(self):
        cmd = " ".join(str(a) for a in self.argv)
        rc = "timed out" if self.rc is None else f"exit {self.rc}"
        return (f"$ {cmd}\n  {rc}\n  stdout: {self.text[-1500:]!r}\n"
                f"  stderr: {self.etext[-1500:]!r}")


def run(argv, input=None, env=None, timeout=30):
    """A command with a timeout; rc None when it timed out (it is killed)."""
    argv = [str(a) for a in argv]
    if isinstance(input, str):
        input = input.encode()
    try:
        cp = subprocess.run(argv, input=input, capture_output=True, env=env,
                            cwd=TMP, timeout=timeout)
        return Proc(argv, cp.returncode, cp.stdout, cp.stderr)
    except subprocess.TimeoutExpired as e:
        return Proc(argv, None, e.stdout or b"", e.stderr or b"")


# -------------------------------------------------------- background processes

PROCS = []   # [Popen], every background process this test started


def spawn(argv, log, env=None):
    f = open(log, "ab")
    try:
        p = subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL, stdout=f,
                             stderr=subprocess.STDOUT, env=env, cwd=TMP)
    finally:
        f.close()
    PROCS.append(p)
    return p


def stop(p, timeout=10):
    """SIGTERM, then SIGKILL after timeout; returns the exit status."""
    if p.poll() is None:
        try:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)
    if p in PROCS:
        PROCS.remove(p)
    return p.returncode


def cleanup():
    global TMP
    while PROCS:
        p = PROCS.pop()
        try:
            stop(p, 5)
        except Exception:  # noqa: BLE001
            pass
    if TMP and os.path.isdir(TMP):
        if os.environ.get("JPKI_TEST_KEEP") == "1":
            print(f"(kept {TMP})")
        else:
            shutil.rmtree(TMP, ignore_errors=True)
        TMP = None


class Interrupted(BaseException):
    """SIGTERM or SIGHUP (as KeyboardInterrupt for SIGINT): stop, clean up."""


def on_signal(signum, _frame):
    raise Interrupted(signum)


def tail(path, n=60):
    try:
        lines = Path(path).read_text("utf-8", "replace").splitlines()
    except OSError as e:
        return f"({e})"
    # pcscd logs this for every feature query of OpenSC; it means nothing here.
    lines = [line for line in lines if "Card not transacted" not in line]
    return "\n".join(lines[-n:])


def poll(fn, timeout, step=0.2):
    """fn() until it returns a true value or timeout seconds pass."""
    end = time.time() + timeout
    while True:
        r = fn()
        if r or time.time() >= end:
            return r
        time.sleep(step)


# ---------------------------------------------------------------- jpki

def jpki_env():
    return {k: v for k, v in os.environ.items()
            if k not in ("JPKI_NOW", "JPKI_STORE", "JPKI_KEYS", "JPKI_CA_PASSPHRASE")}


def jpki(*args, store=True, input=None, expect=0, what=None, fatal=False):
    g = ["--store", STORE, "--keys", KEYS] if store else []
    p = run([JPKI, *g, *args], input=input, env=jpki_env(), timeout=60)
    if expect is not None:
        ok = p.rc == expect
        what = what or "jpki " + " ".join(str(a) for a in args[:2])
        if fatal:
            need(ok, what, p.show())
        else:
            check(ok, what, p.show())
    return p


class Serve:
    """`jpki card serve` of the card."""

    def __init__(self):
        self.proc = None
        self.log = Path(TMP) / "serve.log"

    def start(self, what):
        with open(self.log, "ab") as f:
            f.write(f"==== start ({what})\n".encode())
        self.proc = spawn([JPKI, "card", "serve", "--card", CARD, "--vpcd",
                           f"127.0.0.1:{PORT}"], self.log, env=jpki_env())
        poll(lambda: self.proc.poll() is not None or card_present(), 20)
        need(self.proc.poll() is None and card_present(),
             f"OpenSC sees the card after card serve ({what})",
             f"card serve exit status {self.proc.poll()}; log:\n{tail(self.log)}")

    def stop(self, what):
        rc = stop(self.proc)
        self.proc = None
        check(rc == 0, f"card serve exits 0 on SIGTERM ({what})", f"exit status {rc}")
        # pcscd notices the removal only at its next presence poll (vpcd keeps
        # the dead connection until then): until it does, a new card serve's
        # card would look present while APDUs still go to the old socket.
        need(poll(lambda: not card_present(), 10), f"OpenSC sees the card removed ({what})")


# ---------------------------------------------------------------- pcscd

class Pcscd:
    """A pcscd of this test only (see the module docstring)."""

    def __init__(self, confdir):
        self.confdir = confdir
        self.proc = None
        self.log = Path(TMP) / "pcscd.log"
        self.rundir = Path(TMP) / "run"
        self.rundir.mkdir()
        self.private = self.probe_unshare()
        self.sock = self.rundir / "pcscd.comm" if self.private else PCSCD_RUN / "pcscd.comm"

    def probe_unshare(self):
        if os.environ.get("JPKI_TEST_PCSCD_SHARED") == "1":   # to test the fallback
            return False
        if shutil.which("unshare") is None:
            return False
        try:
            PCSCD_RUN.mkdir(parents=True, exist_ok=True)   # the mount point
        except OSError:
            return False
        p = run(["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                 'mount --bind "$1" "$2"', "sh", self.rundir, PCSCD_RUN], timeout=10)
        return p.rc == 0

    def client_env(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("OPENSC_", "PCSCLITE_"))}
        if self.private:
            env["PCSCLITE_CSOCK_NAME"] = str(self.sock)
        return env

    def answering(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(1)
        try:
            s.connect(str(self.sock))
            return True
        except OSError:
            return False
        finally:
            s.close()

    def start(self, what):
        if not self.private:
            need(not self.answering(),
                 "no other pcscd is running (the default socket is used)",
                 f"{self.sock} answers: another pcscd runs (stop it, e.g. `systemctl stop "
                 "pcscd.socket pcscd`); this test needs a pcscd of its own with its vpcd port")
        pcscd = ["pcscd", "--foreground", "--apdu", "--config", self.confdir]
        if self.private:
            argv = ["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                    'mount --bind "$1" "$2" && shift 2 && exec "$@"', "sh",
                    self.rundir, PCSCD_RUN, *pcscd]
        else:
            argv = pcscd
        with open(self.log, "ab") as f:
            f.write(f"==== start ({what}): {' '.join(str(a) for a in argv)}\n".encode())
        self.proc = spawn(argv, self.log)
        ok = poll(lambda: self.proc.poll() is not None or self.answering(), 10)
        need(ok and self.proc.poll() is None, f"pcscd listens on {self.sock} ({what})",
             f"pcscd exit status {self.proc.poll()}; log:\n{tail(self.log)}")
        # vpcd's reader appears once pcscd has loaded reader.conf.d.
        p = poll(lambda: (lambda p: p if READER in p.text else None)(
            opensc("opensc-tool", "--list-readers")), 10)
        need(p is not None, f"pcscd lists the reader {READER!r} ({what})",
             f"pcscd log:\n{tail(self.log)}")

    def stop(self, what):
        rc = stop(self.proc)
        self.proc = None
        check(rc == 0, f"pcscd stops on SIGTERM ({what})", f"exit status {rc}")


# ---------------------------------------------------------------- OpenSC

def opensc(tool, *args, conf=None, env=None, timeout=30):
    """An OpenSC tool with the private pcscd and an OpenSC configuration."""
    e = PCSCD.client_env()
    e["OPENSC_CONF"] = str(conf or CONF_DEFAULT)
    e["HOME"] = TMP
    e.update(env or {})
    return run([tool, *args], env=e, timeout=timeout)


def p15(*args, conf=None):
    return opensc("pkcs15-tool", "--reader", READER, *args, conf=conf)


def p11(token, *args, conf=None):
    return opensc("pkcs11-tool", "--module", MODULE, "--token-label", token, *args, conf=conf)


def card_present():
    p = opensc("opensc-tool", "--reader", READER, "--atr", conf=CONF_JPKI, timeout=10)
    return p.rc == 0 and p.text.strip() == ATR


def wait_card(timeout):
    return poll(card_present, timeout, 0.2)


def pin_tries(conf=None):
    """{'auth': n, 'sign': n} from pkcs15-tool --list-pins (None: unreadable)."""
    p = p15("--list-pins", conf=conf or CONF_JPKI)
    if p.rc != 0:
        return None, p
    tries = {}
    for block in re.split(r"\n(?=PIN \[)", p.text):
        m = re.match(r"PIN \[(.*?)\]", block.strip())
        t = re.search(r"Tries left\s*:\s*(-?\d+)", block)
        if m and t:
            kind = {"User Authentication PIN": "auth",
                    "Digital Signature PIN": "sign"}.get(m.group(1))
            if kind:
                tries[kind] = int(t.group(1))
    return tries, p


def check_tries(want, what):
    got, p = pin_tries()
    return eq(got, want, f"pkcs15-tool --list-pins: tries left {want} ({what})", p.show())


def login(kind, pin, conf=None):
    """pkcs11-tool --login on the token of kind's PIN: 'CKR_OK' or the CKR_ error."""
    p = p11(AUTH_TOKEN if kind == "auth" else SIGN_TOKEN, "--login", "--pin", pin,
            "--list-objects", conf=conf or CONF_JPKI)
    if p.rc == 0:
        return "CKR_OK", p
    m = re.search(r"rv = (CKR_\w+)", p.etext)
    return (m.group(1) if m else f"exit {p.rc}"), p


def objects(text):
    """pkcs11-tool --list-objects output -> {(type, label)}."""
    out, kind = set(), None
    for line in text.splitlines():
        m = re.match(r"(Certificate|Private Key|Public Key|Data) Object", line)
        if m:
            kind = m.group(1)
            continue
        m = re.match(r"\s+label:\s+(.*)$", line)
        if m and kind:
            out.add((kind, m.group(1).strip()))
    return out


def pem_to_der(pem):
    return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)


def find_module():
    cands = ["/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"]
    for d in sorted(Path("/usr/lib").glob("*")):
        cands += [str(d / "opensc-pkcs11.so"), str(d / "pkcs11" / "opensc-pkcs11.so")]
    cands += ["/usr/lib/opensc-pkcs11.so", "/usr/lib/pkcs11/opensc-pkcs11.so",
              "/usr/lib64/opensc-pkcs11.so", "/usr/lib64/pkcs11/opensc-pkcs11.so"]
    for c in cands:
        if os.path.isfile(c):
            return c
    return None


def free_port():
    """A port P with P and P + 1 free (vpcd listens on both), below the
    ephemeral range so that no outgoing connection takes it meanwhile."""
    for _ in range(200):
        port = random.randrange(20000, 32000)
        socks = []
        try:
            for p in (port, port + 1):
                s = socket.socket()
                socks.append(s)
                s.bind(("0.0.0.0", p))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port pair")


# ---------------------------------------------------------------- the test

TMP = None
STORE = KEYS = CARD = PORT = MODULE = PCSCD = CONF_DEFAULT = CONF_JPKI = None


def setup_card():
    """The CA, the card, both key pairs and certificates; returns the certs."""
    section("CA and card")
    d = Path(TMP)
    jpki("ca", "init", "--municipality", "131016:豊島区", "--insecure-no-passphrase",
         what="ca init", fatal=True)
    ca = {}
    for name in ("root", "sign", "auth"):
        p = jpki("ca", "cert", name, what=f"ca cert {name}", fatal=True)
        ca[name] = pem_to_der(p.out)
    (d / "pins.json").write_text(json.dumps(PINS))
    (d / "pins-new.json").write_text(json.dumps(NEW_PINS))
    (d / "subject.json").write_text(json.dumps(SUBJECT, ensure_ascii=False))
    p = jpki("card", "new", "--out", CARD, "--pins", d / "pins.json", "--holder",
             d / "subject.json", what="card new", fatal=True)
    serial = p.text.strip()
    check(serial != "" and "\n" not in serial, f"card new prints the serial ({serial!r})")
    certs = {}
    for kind in ("auth", "sign"):
        p = jpki("card", "keygen", "--card", CARD, "--kind", kind,
                 what=f"card keygen {kind}", fatal=True)
        (d / f"{kind}.pub.pem").write_bytes(p.out)
        try:
            pub = serialization.load_pem_public_key(p.out)
        except ValueError:
            pub = None
        need(isinstance(pub, rsa.RSAPublicKey) and pub.key_size == 2048,
             f"card keygen {kind}: an RSA-2048 public key in PEM", repr(p.out[:200]))
        p = jpki("ca", "issue", "--kind", kind, "--pubkey", d / f"{kind}.pub.pem",
                 "--subject", d / "subject.json", "--expires", EXPIRES,
                 what=f"ca issue {kind}", fatal=True)
        (d / f"{kind}.pem").write_bytes(p.out)
        cert = x509.load_pem_x509_certificate(p.out)
        certs[kind] = cert
        check(cert.public_key().public_numbers() == pub.public_numbers(),
              f"ca issue {kind}: the certificate holds the card's key")
        run(["openssl", "x509", "-in", d / f"{kind}.pem", "-pubkey", "-noout", "-out",
             d / f"{kind}.certpub.pem"])
        jpki("card", "write-cert", "--card", CARD, "--kind", kind, "--cert", d / f"{kind}.pem",
             what=f"card write-cert {kind}", fatal=True)
    p = jpki("card", "status", "--card", CARD, "--json", store=False, what="card status --json")
    try:
        st = json.loads(p.out)
        eq(st.get("serial"), serial, "card status: serial")
        got = {c.get("kind"): (int(str(c.get("serial")), 16), c.get("expires"))
               for c in st.get("certs", [])}
        eq(got, {k: (c.serial_number, EXPIRES) for k, c in certs.items()},
           "card status: certificates (serial, expires)")
        eq(st.get("keys"), {"sign": True, "auth": True}, "card status: keys")
        eq({k: (v.get("set"), v.get("tries_left"), v.get("blocked"))
            for k, v in st.get("pins", {}).items()},
           {"sign": (True, 5, False), "auth": (True, 3, False), "juki": (True, 3, False),
            "text": (True, 3, False)}, "card status: PINs")
    except (ValueError, AttributeError, TypeError) as e:
        check(False, "card status --json parses", f"{e}\n{p.show()}")
    return ca, certs


def opensc_objects(ca, certs):
    section("OpenSC: card, pkcs15")
    d = Path(TMP)
    p = opensc("opensc-tool", "--reader", READER, "--atr")
    eq(p.text.strip(), ATR, "opensc-tool --atr", p.show())
    p = opensc("opensc-tool", "--reader", READER, "--name")
    eq(p.text.strip(), "jpki", "opensc-tool --name: OpenSC's jpki driver (all drivers enabled)",
       p.show())
    p = p15("--dump")
    if check(p.rc == 0, "pkcs15-tool --dump", p.show()):
        for label in ("User Authentication PIN", "Digital Signature PIN",
                      "User Authentication Key", "Digital Signature Key",
                      "User Authentication Certificate", "Digital Signature Certificate",
                      "User Authentication Certificate CA", "Digital Signature Certificate CA"):
            check(f"[{label}]" in p.text, f"pkcs15-tool --dump shows [{label}]", p.text)
        check("PKCS#15 Card [JPKI]" in p.text, "pkcs15-tool --dump: PKCS#15 Card [JPKI]")
    check_tries({"auth": 3, "sign": 5}, "fresh card")

    def read_cert(cid, want, what, *extra):
        p = p15("--read-certificate", cid, *extra)
        try:
            got = pem_to_der(p.out) if p.rc == 0 else None
        except ValueError:
            got = None
        return check(got == want, what, p.show())

    der = {k: c.public_bytes(serialization.Encoding.DER) for k, c in certs.items()}
    read_cert("1", der["auth"], "pkcs15-tool --read-certificate 1 (auth, no PIN) = ca issue")
    read_cert("3", ca["auth"], "pkcs15-tool --read-certificate 3 (auth CA) = ca cert auth")
    read_cert("4", ca["sign"], "pkcs15-tool --read-certificate 4 (sign CA) = ca cert sign")
    # Without the signing PIN: READ BINARY of EF 0001 must answer 6982.
    # (OpenSC 0.23 reports it as "EF offset too large"; the -vvvv log shows the
    # card's status word.)
    p = opensc("pkcs15-tool", "--reader", READER, "--read-certificate", "2", "-vvvv",
               conf=CONF_JPKI)
    check(p.rc != 0 and b"BEGIN CERTIFICATE" not in p.out,
          "pkcs15-tool --read-certificate 2 (sign) without the PIN fails", p.show())
    check("Security status not satisfied" in p.etext,
          "  ... because the card answers 6982 (security status not satisfied)",
          "no 'Security status not satisfied' in the OpenSC log:\n" + p.etext[-3000:])
    read_cert("2", der["sign"],
              "pkcs15-tool --read-certificate 2 --verify-pin --auth-id 02 (sign PIN) = ca issue",
              "--verify-pin", "--auth-id", "02", "--pin", PINS["sign"])
    check_tries({"auth": 3, "sign": 5}, "after the right signing PIN")

    section("OpenSC: pkcs11")
    p = opensc("pkcs11-tool", "--module", MODULE, "--list-slots")
    check(p.rc == 0 and AUTH_TOKEN in p.text and SIGN_TOKEN in p.text,
          f"pkcs11-tool -L: tokens {AUTH_TOKEN!r} and {SIGN_TOKEN!r}", p.show())
    auth_cert = ("Certificate", "User Authentication Certificate")
    auth_key = ("Private Key", "User Authentication Key")
    sign_cert = ("Certificate", "Digital Signature Certificate")
    sign_key = ("Private Key", "Digital Signature Key")
    cas = {("Certificate", "User Authentication Certificate CA"),
           ("Certificate", "Digital Signature Certificate CA")}
    p = p11(AUTH_TOKEN, "--list-objects")
    o = objects(p.text)
    check(p.rc == 0 and auth_cert in o and cas <= o and auth_key not in o
          and sign_cert not in o and sign_key not in o,
          "pkcs11-tool --list-objects (auth token, no login): auth cert and CA certs, "
          "no private key, no signing cert", p.show() + f"\n  objects: {sorted(o)}")
    p = p11(AUTH_TOKEN, "--list-objects", "--login", "--pin", PINS["auth"])
    o = objects(p.text)
    check(p.rc == 0 and auth_cert in o and auth_key in o,
          "pkcs11-tool --list-objects --login (auth PIN): + the auth private key",
          p.show() + f"\n  objects: {sorted(o)}")
    p = p11(SIGN_TOKEN, "--list-objects")
    o = objects(p.text)
    check(p.rc == 0 and sign_cert not in o and sign_key not in o,
          "pkcs11-tool --list-objects (sign token, no login): no signing cert, no key",
          p.show() + f"\n  objects: {sorted(o)}")
    p = p11(SIGN_TOKEN, "--list-objects", "--login", "--pin", PINS["sign"])
    o = objects(p.text)
    check(p.rc == 0 and sign_cert in o and sign_key in o,
          "pkcs11-tool --list-objects --login (sign PIN): signing cert and key",
          p.show() + f"\n  objects: {sorted(o)}")
    p = p11(SIGN_TOKEN, "--login", "--pin", PINS["sign"], "--read-object", "--type", "cert",
            "--id", "02", "--output-file", d / "sign-p11.der")
    got = (d / "sign-p11.der").read_bytes() if (d / "sign-p11.der").exists() else None
    check(p.rc == 0 and got == der["sign"],
          "pkcs11-tool --read-object --type cert --id 02 --login = ca issue", p.show())

    (d / "data.bin").write_bytes(os.urandom(1000))
    for kind in ("auth", "sign"):
        sign_and_verify(kind, PINS[kind], "")
    check_tries({"auth": 3, "sign": 5}, "after the signatures")


def sign_and_verify(kind, pin, what):
    d = Path(TMP)
    sig = d / f"{kind}.sig"
    if sig.exists():
        sig.unlink()
    kid = "01" if kind == "auth" else "02"
    p = p11(AUTH_TOKEN if kind == "auth" else SIGN_TOKEN, "--sign", "--id", kid,
            "-m", "SHA256-RSA-PKCS", "--pin", pin, "--input-file", d / "data.bin",
            "--output-file", sig)
    ok = check(p.rc == 0 and sig.exists() and sig.stat().st_size == 256,
               f"pkcs11-tool --sign --id {kid} -m SHA256-RSA-PKCS ({kind} PIN){what}", p.show())
    if ok:
        v = run(["openssl", "dgst", "-sha256", "-verify", d / f"{kind}.certpub.pem",
                 "-signature", sig, d / "data.bin"])
        check(v.rc == 0 and "Verified OK" in v.text,
              f"  ... openssl dgst -verify with the {kind} certificate's key", v.show())


def lockout(serve):
    section("PIN counters and lockout")
    for kind in ("auth", "sign"):
        mx, right, wrong = MAX_TRIES[kind], PINS[kind], WRONG[kind]
        # Two wrong PINs count down, the right one resets the counter.
        for left in (mx - 1, mx - 2):
            rv, p = login(kind, wrong)
            eq(rv, "CKR_PIN_INCORRECT", f"{kind}: wrong PIN -> CKR_PIN_INCORRECT", p.show())
            tries, p = pin_tries()
            eq((tries or {}).get(kind), left, f"{kind}: tries left {left}", p.show())
        rv, p = login(kind, right)
        eq(rv, "CKR_OK", f"{kind}: right PIN -> CKR_OK", p.show())
        tries, p = pin_tries()
        eq((tries or {}).get(kind), mx, f"{kind}: tries left back at {mx}", p.show())
        # Then down to 0: the last wrong PIN still says incorrect, then locked.
        for left in range(mx - 1, -1, -1):
            rv, p = login(kind, wrong)
            eq(rv, "CKR_PIN_INCORRECT", f"{kind}: wrong PIN -> CKR_PIN_INCORRECT", p.show())
            tries, p = pin_tries()
            eq((tries or {}).get(kind), left, f"{kind}: tries left {left}", p.show())
        rv, p = login(kind, right)
        eq(rv, "CKR_PIN_LOCKED", f"{kind}: right PIN after lockout -> CKR_PIN_LOCKED", p.show())
        p = opensc("pkcs11-tool", "--module", MODULE, "--list-slots", conf=CONF_JPKI)
        token = AUTH_TOKEN if kind == "auth" else SIGN_TOKEN
        m = re.search(re.escape(f"token label        : {token}") + r".*?token flags\s*:([^\n]*)",
                      p.text, re.S)
        check(m and "user PIN locked" in m.group(1),
              f"{kind}: pkcs11-tool -L: 'user PIN locked'", p.show())
    check_tries({"auth": 0, "sign": 0}, "both locked")

    section("lockout across card serve restarts, reset-pin")
    serve.stop("locked")
    p = jpki("card", "status", "--card", CARD, "--json", store=False,
             what="card status --json (locked)")
    try:
        pins = json.loads(p.out)["pins"]
        for kind in ("auth", "sign"):
            eq((pins[kind]["tries_left"], pins[kind]["blocked"]), (0, True),
               f"card status: {kind} PIN (tries_left, blocked)")
        eq((pins["juki"]["tries_left"], pins["juki"]["blocked"]), (3, False),
           "card status: juki PIN untouched")
    except (ValueError, KeyError, TypeError) as e:
        check(False, "card status --json parses", f"{e}\n{p.show()}")
    jpki("card", "verify-pin", "--card", CARD, "--kind", "auth", store=False,
         input=PINS["auth"] + "\n", expect=1,
         what="card verify-pin auth (right PIN, locked): exit 1")
    serve.start("locked card")
    check_tries({"auth": 0, "sign": 0}, "after restarting card serve")
    for kind in ("auth", "sign"):
        rv, p = login(kind, PINS[kind])
        eq(rv, "CKR_PIN_LOCKED", f"{kind}: right PIN after restart -> CKR_PIN_LOCKED", p.show())
    serve.stop("reset-pin")
    for kind in ("auth", "sign"):
        jpki("card", "reset-pin", "--card", CARD, "--kind", kind, "--pins",
             Path(TMP) / "pins-new.json", what=f"card reset-pin --kind {kind}")
    serve.start("after reset-pin")
    check_tries({"auth": 3, "sign": 5}, "after reset-pin")
    # reset-pin set the PINs of pins-new.json: the old auth PIN is wrong now.
    rv, p = login("auth", PINS["auth"])
    eq(rv, "CKR_PIN_INCORRECT", "auth: the old PIN after reset-pin -> CKR_PIN_INCORRECT", p.show())
    for kind in ("auth", "sign"):
        rv, p = login(kind, NEW_PINS[kind])
        eq(rv, "CKR_OK", f"{kind}: the new PIN after reset-pin -> CKR_OK", p.show())
    check_tries({"auth": 3, "sign": 5}, "after the new PINs")
    for kind in ("auth", "sign"):
        sign_and_verify(kind, NEW_PINS[kind], " after reset-pin")


def pcscd_restart(serve):
    section("pcscd restart under a running card serve")
    PCSCD.stop("restart")
    check(not card_present(), "the card is gone while pcscd is down")
    time.sleep(1)
    check(serve.proc.poll() is None, "card serve keeps running while pcscd is down",
          f"exit status {serve.proc.poll()}; log:\n{tail(serve.log)}")
    PCSCD.start("restarted")
    t = time.time()
    ok = wait_card(20)
    need(ok, "card serve reconnects: OpenSC sees the card again",
         f"card serve log:\n{tail(serve.log)}")
    print(f"      (reconnected in {time.time() - t:.1f}s)")
    check_tries({"auth": 3, "sign": 5}, "after the pcscd restart")
    for kind in ("auth", "sign"):
        sign_and_verify(kind, NEW_PINS[kind], " after the pcscd restart")


def run_all():
    global STORE, KEYS, CARD, PORT, MODULE, PCSCD, CONF_DEFAULT, CONF_JPKI
    section("tools")
    for tool in ("pcscd", "opensc-tool", "pkcs15-tool", "pkcs11-tool", "openssl"):
        need(shutil.which(tool) is not None, f"{tool} is installed")
    need(os.path.isfile(VPCD_DRIVER), f"vpcd driver {VPCD_DRIVER} (vsmartcard-vpcd)")
    MODULE = find_module()
    need(MODULE is not None, f"OpenSC's PKCS#11 module ({MODULE})")
    need(os.path.isfile(JPKI) and os.access(JPKI, os.X_OK), f"jpki binary {JPKI}")
    d = Path(TMP)
    STORE, KEYS, CARD = d / "s.db", d / "keys", d / "card.jpkicard"
    CONF_DEFAULT, CONF_JPKI = d / "opensc-default.conf", d / "opensc-jpki.conf"
    CONF_DEFAULT.write_text(OPENSC_CONF_DEFAULT)
    CONF_JPKI.write_text(OPENSC_CONF_JPKI)
    ca, certs = setup_card()

    section("pcscd")
    PORT = free_port()
    conf = d / "reader.conf.d"
    conf.mkdir()
    (conf / "vpcd").write_text(f'FRIENDLYNAME "{READER_NAME}"\n'
                               f"DEVICENAME   /dev/null:0x{PORT:04X}\n"
                               f"LIBPATH      {VPCD_DRIVER}\n"
                               f"CHANNELID    0x{PORT:04X}\n")
    PCSCD = Pcscd(conf)
    print(f"      (vpcd port {PORT}; socket {PCSCD.sock}; "
          f"{'private mount namespace' if PCSCD.private else 'default socket'})")
    PCSCD.start("first")
    p = opensc("opensc-tool", "--reader", READER, "--atr", conf=CONF_JPKI)
    check(p.rc != 0, "no card in the reader before card serve", p.show())

    section("card serve")
    serve = Serve()
    serve.start("first")
    opensc_objects(ca, certs)
    lockout(serve)
    pcscd_restart(serve)
    serve.stop("end")
    PCSCD.stop("end")


def main():
    global TMP
    TMP = tempfile.mkdtemp(prefix="jpki-pcsc-")
    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    status = None
    try:
        run_all()
    except Abort:
        pass
    except (Interrupted, KeyboardInterrupt) as e:
        signum = e.args[0] if isinstance(e, Interrupted) else signal.SIGINT
        status = 128 + signum
        FAILURES.append(f"interrupted by {signal.Signals(signum).name}")
    except Exception:  # noqa: BLE001
        FAILURES.append("exception:\n" + traceback.format_exc())
    finally:
        if FAILURES and TMP:
            for name in ("pcscd.log", "serve.log"):
                if (Path(TMP) / name).exists():
                    print(f"\n---- tail of {name}\n{tail(Path(TMP) / name, 80)}")
        cleanup()
    print(f"\n{CHECKS[0]} checks, {len(FAILURES)} failures, {time.time() - T0:.1f}s")
    for f in FAILURES:
        print("\nFAIL " + f.replace("\n", "\n  "))
    return status or (1 if FAILURES else 0)


if __name__ == "__main__":
    sys.exit(main())
