#!/usr/bin/env python3
"""bench/http: jpkid over HTTP on loopback, each number next to its peer.

Usage: bench/http/run.sh BUILD_DIR [--quick] [--keep]

In one run, on a fresh store (2,000 demo residents):

  OCSP     jpkid (--threads 2, then the default 4), POST and RFC 5019 GET,
           answering from its in-memory cache; next to `openssl ocsp
           -multi 2` (an index file, signs every response) answering the
           same 200 certificates. Every answer of both is parsed and
           compared before any load; under load every answer must be 200.
  API      GET /api/v1/renewal-window, GET /healthz (context).
  renewals POST /api/v1/residents/{id}/renew, 2 clients, next to the bound
           2 RSA key generations + 2 RSA signatures a renewal (openssl
           speed / openssl genrsa, same run), on 2 cores.

Load: wrk -t2 -c64 with bench/http/cycle.lua. Exit status 0 only when every
step succeeded. Servers are stopped on any exit. See docs/SCALE.md.
"""

import base64
import datetime
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
import urllib.parse

try:
    from cryptography.x509 import ocsp as x509_ocsp
except ImportError:  # scripts/install-deps installs python3-cryptography
    sys.exit("bench/http: needs python3-cryptography (scripts/install-deps)")

HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(HERE, "cycle.lua")

RESIDENTS = 2000
N_CERTS = 200
N_REVOKED = 20
WRK_THREADS = 2
WRK_CONNS = 64
PROBES, PROBE_EVERY = 16, 0.04  # OCSP clients during renewals, seconds between requests
PINS = {"sign": "ABC123", "auth": "1234"}
STAFF_USER, STAFF_PW = "bench", "pw-long-enough-1"
REASONS = {0: "unspecified", 1: "keyCompromise", 2: "CACompromise",
           3: "affiliationChanged", 4: "superseded", 5: "cessationOfOperation",
           6: "certificateHold", 8: "removeFromCRL", 9: "privilegeWithdrawn",
           10: "AACompromise"}


class BenchError(Exception):
    pass


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---- processes ------------------------------------------------------------

SERVERS = []  # (name, Popen, kill_group)


def stop(proc, group):
    """Stops a server this script started: by its pid, or by its own process
    group (openssl ocsp -multi makes one, pgid = its pid, for its children)."""
    if proc.poll() is not None and not group:
        return
    try:
        if group:
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            proc.terminate()
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    try:
        if group:
            os.killpg(proc.pid, signal.SIGKILL)
        elif proc.poll() is None:
            proc.kill()
    except ProcessLookupError:
        pass
    proc.wait()


def stop_all():
    while SERVERS:
        name, proc, group = SERVERS.pop()
        stop(proc, group)


def forget(proc):
    for i, (_, p, g) in enumerate(SERVERS):
        if p is proc:
            del SERVERS[i]
            stop(p, g)
            return


def run(cmd, *, input=None, what=None, timeout=300):
    r = subprocess.run(cmd, input=input, capture_output=True, timeout=timeout)
    if r.returncode != 0:
        raise BenchError(f"{what or cmd[0]} failed (exit {r.returncode}): "
                         f"{' '.join(map(str, cmd))}\n{r.stderr.decode(errors='replace')}")
    return r.stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pids):
    """utime + stime of these processes, in seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
            total += int(rest[11]) + int(rest[12])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total / tick


def thread_cpu(pid):
    """{thread id: utime + stime in seconds} of one process's threads."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
            out[t] = (int(rest[11]) + int(rest[12])) / tick
        except FileNotFoundError:
            pass
    return out


def busy_seconds():
    """CPU time the whole machine spent busy (all processes), seconds."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...
    return (v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)) / \
        os.sysconf("SC_CLK_TCK")


def group_pids(pgid):
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
            if int(rest[2]) == pgid:
                pids.append(int(d))
        except (FileNotFoundError, ProcessLookupError, IndexError):
            pass
    return pids


# ---- HTTP helpers ---------------------------------------------------------

def hreq(port, method, path, body=None, headers=None, conn=None):
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return r.status, r.headers, data
    finally:
        if own:
            conn.close()


def metrics(port):
    st, _, body = hreq(port, "GET", "/metrics")
    if st != 200:
        raise BenchError(f"/metrics answered {st}")
    out = {"codes": {}}
    for line in body.decode().splitlines():
        m = re.match(r'jpkid_ocsp_responses_total\{source="(\w+)"\} (\d+)', line)
        if m:
            out[m.group(1)] = int(m.group(2))
        m = re.match(r'jpkid_requests_total\{route="[^"]*",code="(\d+)"\} (\d+)', line)
        if m:
            out["codes"][m.group(1)] = out["codes"].get(m.group(1), 0) + int(m.group(2))
    return out


def parse_ocsp(der):
    """(status, serial hex, revocation time, reason) of a one-certificate
    answer, parsed by python3-cryptography (not by openssl nor jpkid)."""
    r = x509_ocsp.load_der_ocsp_response(der)
    if r.response_status != x509_ocsp.OCSPResponseStatus.SUCCESSFUL:
        return (r.response_status.name, None, None, None)
    status = r.certificate_status.name.lower()
    rt = reason = None
    if status == "revoked":
        rt = getattr(r, "revocation_time_utc", None)
        if rt is None:  # cryptography < 43
            rt = r.revocation_time.replace(tzinfo=datetime.timezone.utc)
        rt = int(rt.timestamp())
        reason = r.revocation_reason.value if r.revocation_reason else None
        if reason == "unspecified":
            reason = None  # absent and unspecified say the same
    return (status, format(r.serial_number, "x"), rt, reason)


# ---- wrk ------------------------------------------------------------------

def wrk(url, lua_args, seconds, server_pids):
    cmd = ["wrk", f"-t{WRK_THREADS}", f"-c{WRK_CONNS}", f"-d{seconds}s",
           "-s", LUA, url, "--"] + lua_args
    t0 = os.times()
    c0 = cpu_seconds(server_pids())
    b0 = busy_seconds()
    r = subprocess.run(cmd, capture_output=True, timeout=seconds + 60)
    b1 = busy_seconds()
    c1 = cpu_seconds(server_pids())
    t1 = os.times()
    out = r.stdout.decode(errors="replace")
    m = re.search(r"^BENCH (.*)$", out, re.M)
    if r.returncode != 0 or m is None:
        raise BenchError(f"wrk failed (exit {r.returncode}) on {url}:\n{out}"
                         f"{r.stderr.decode(errors='replace')}")
    res = {k: int(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
    res["rps"] = res["requests"] / (res["duration_us"] / 1e6)
    res["server_cpu"] = c1 - c0
    res["wrk_cpu"] = (t1.children_user - t0.children_user) + \
        (t1.children_system - t0.children_system)
    # Everything else the machine ran meanwhile (other tenants of the VM).
    res["other_cpu"] = max(0.0, (b1 - b0) - res["server_cpu"] - res["wrk_cpu"])
    res["errors"] = sum(res[k] for k in ("connect", "read", "write", "status", "timeout"))
    res["raw"] = out
    return res


def jpkid_wrk(port, pid, url, lua_args, seconds):
    """wrk against jpkid, with jpkid's own count of what it answered: every
    answer during the run must be a 200 (/metrics, by status code)."""
    m0 = metrics(port)
    res = wrk(url, lua_args, seconds, lambda: [pid])
    m1 = metrics(port)
    codes = {k: v - m0["codes"].get(k, 0) for k, v in m1["codes"].items()}
    # The /metrics request itself is counted between the two readings.
    res["answered"] = sum(codes.values()) - 1
    res["not200"] = {k: v for k, v in codes.items() if k != "200" and v}
    res["ocsp"] = {k: m1.get(k, 0) - m0.get(k, 0) for k in ("cache", "store", "live")}
    return res


# ---- the benchmark --------------------------------------------------------

class Bench:
    def __init__(self, build, quick, keep):
        self.jpki = os.path.abspath(os.path.join(build, "jpki"))
        self.jpkid = os.path.abspath(os.path.join(build, "jpkid"))
        for exe in (self.jpki, self.jpkid):
            if not os.access(exe, os.X_OK):
                raise BenchError(f"no {exe}: build first (cmake --build {build})")
        for tool in ("wrk", "openssl"):
            if shutil.which(tool) is None:
                raise BenchError(f"{tool} is not installed (scripts/install-deps)")
        self.quick = quick
        self.keep = keep
        self.secs = 3 if quick else 10
        self.short = 3 if quick else 5
        self.n_renew = 6 if quick else 30
        self.n_probe = 4 if quick else 12
        self.dir = tempfile.mkdtemp(prefix="jpki-bench-http-")
        self.store = os.path.join(self.dir, "jpki.db")
        self.keys = self.store + ".keys"
        self.rows = []      # the table
        self.failures = []  # what went wrong (the exit status)

    def cleanup(self):
        stop_all()
        if self.keep:
            log(f"kept {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def fail(self, msg):
        log("FAIL: " + msg)
        self.failures.append(msg)

    def p(self, *parts):
        return os.path.join(self.dir, *parts)

    def cli(self, *args, input=None):
        return run([self.jpki, "--store", self.store, *args], input=input,
                   what="jpki " + args[0])

    # -- 1. setup --
    def setup(self):
        log(f"store in {self.dir}")
        self.cli("init", "--insecure-no-passphrase", "--history-from", "2016-01-01")
        t = time.monotonic()
        self.cli("demo", "seed", "--residents", str(RESIDENTS), "--seed", "1")
        self.seed_s = time.monotonic() - t
        self.cli("staff", "add", "--user", STAFF_USER, "--role", "counter",
                 input=(STAFF_PW + "\n").encode())
        for name in ("root", "sign", "ocsp-sign"):
            with open(self.p(f"{name}.pem"), "wb") as f:
                f.write(self.cli("ca", "cert", name))
        self.rkey = os.path.join(self.keys, "ocsp-sign.key.pem")
        if not os.path.exists(self.rkey):
            raise BenchError(f"no responder key {self.rkey}")

        # ~200 signing certificates: good ones and revoked ones, all valid
        # past the renewals' window (so the renewals below do not change
        # them). Deterministic: by serial.
        cutoff = int(time.time()) + 150 * 86400
        db = sqlite3.connect(f"file:{self.store}?mode=ro", uri=True)
        q = ("SELECT c.serial, c.der, c.not_after, r.revoked_at, r.reason "
             "FROM certificate c LEFT JOIN revocation r USING (serial) "
             "WHERE c.kind = 'sign' AND c.not_after > ? AND r.serial IS {} NULL "
             "ORDER BY c.serial LIMIT ?")
        revoked = db.execute(q.format("NOT"), (cutoff, N_REVOKED)).fetchall()
        good = db.execute(q.format(""), (cutoff, N_CERTS - len(revoked))).fetchall()
        db.close()
        if len(revoked) < 5 or len(good) < 100:
            raise BenchError(f"too few certificates: {len(good)} good, {len(revoked)} revoked")
        self.certs = []
        os.mkdir(self.p("req"))
        index = []
        for i, (serial, der, not_after, rev_at, reason) in enumerate(good + revoked):
            pem = self.p("req", f"c{i}.pem")
            with open(pem, "w") as f:
                b = base64.encodebytes(der).decode().replace("\n", "")
                f.write("-----BEGIN CERTIFICATE-----\n" +
                        "\n".join(b[k:k + 64] for k in range(0, len(b), 64)) +
                        "\n-----END CERTIFICATE-----\n")
            expiry = time.strftime("%y%m%d%H%M%SZ", time.gmtime(not_after))
            hexs = serial.upper()
            if rev_at is None:
                index.append(f"V\t{expiry}\t\t{hexs}\tunknown\tunknown\n")
                want = ("good", serial.lower().lstrip("0"), None, None)
            else:
                rt = time.strftime("%y%m%d%H%M%SZ", time.gmtime(rev_at))
                index.append(f"R\t{expiry}\t{rt},{REASONS[reason]}\t{hexs}\tunknown\tunknown\n")
                want = ("revoked", serial.lower().lstrip("0"), rev_at,
                        None if reason == 0 else REASONS[reason])
            self.certs.append({"pem": pem, "req": self.p("req", f"r{i}.der"),
                               "serial": serial, "want": want})
        with open(self.p("index.txt"), "w") as f:
            f.writelines(index)
        with open(self.p("index.txt.attr"), "w") as f:
            f.write("unique_subject = no\n")
        self.n_good, self.n_revoked = len(good), len(revoked)

        # One OCSP request per certificate, without nonce (openssl builds them).
        procs = []
        for c in self.certs:
            procs.append(subprocess.Popen(
                ["openssl", "ocsp", "-issuer", self.p("sign.pem"), "-cert", c["pem"],
                 "-no_nonce", "-reqout", c["req"]],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
            if len(procs) >= 8:
                self._reap(procs.pop(0))
        for pr in procs:
            self._reap(pr)
        for c in self.certs:
            with open(c["req"], "rb") as f:
                c["der"] = f.read()
            c["path"] = "/ocsp/sign/" + urllib.parse.quote(
                base64.b64encode(c["der"]).decode(), safe="")
        with open(self.p("get-paths.txt"), "w") as f:
            f.writelines(c["path"] + "\n" for c in self.certs)
        for name, path in (("window", "/api/v1/renewal-window?expires=2027-01-10"),
                           ("healthz", "/healthz")):
            with open(self.p(f"{name}.txt"), "w") as f:
                f.write(path + "\n")
        log(f"seeded {RESIDENTS} residents in {self.seed_s:.1f} s; "
            f"{len(self.certs)} OCSP requests ({self.n_good} good, {self.n_revoked} revoked)")

    @staticmethod
    def _reap(pr):
        _, err = pr.communicate()
        if pr.returncode != 0:
            raise BenchError("openssl ocsp -reqout failed: " + err.decode(errors="replace"))

    # -- physical peers: RSA sign and keygen rates on one core --
    def rsa_peers(self):
        out = run(["openssl", "speed", "-seconds", "1" if self.quick else "3",
                   "rsa2048"], what="openssl speed").decode()
        m = re.search(r"^rsa\s+2048 bits\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)", out, re.M)
        if not m:
            raise BenchError("cannot read openssl speed's output:\n" + out)
        self.sign_rate = float(m.group(1))
        n = 4 if self.quick else 10
        t = time.monotonic()
        for _ in range(n):
            run(["openssl", "genrsa", "-out", os.devnull, "2048"], what="openssl genrsa")
        self.keygen_n = n
        self.keygen_rate = n / (time.monotonic() - t)
        self.bound_core = 1 / (2 / self.keygen_rate + 2 / self.sign_rate)
        # fsync of a 4 KiB write next to the store (the disk renewals wait on).
        fd = os.open(self.p("fsync.tmp"), os.O_WRONLY | os.O_CREAT, 0o600)
        n, t = 0, time.monotonic()
        while n < 200 and time.monotonic() - t < 1.0:
            os.pwrite(fd, b"\0" * 4096, 0)
            os.fsync(fd)
            n += 1
        self.fsync_rate = n / (time.monotonic() - t)
        os.close(fd)
        os.unlink(self.p("fsync.tmp"))
        log(f"RSA-2048: sign {self.sign_rate:.0f}/s, keygen {self.keygen_rate:.2f}/s a core; "
            f"fsync {self.fsync_rate:.0f}/s")

    # -- openssl ocsp, the peer --
    def openssl_responder(self):
        port = free_port()
        logf = open(self.p("openssl-ocsp.log"), "wb")
        proc = subprocess.Popen(
            ["openssl", "ocsp", "-index", self.p("index.txt"), "-CA", self.p("sign.pem"),
             "-rsigner", self.p("ocsp-sign.pem"), "-rkey", self.rkey,
             "-port", str(port), "-multi", "2", "-nmin", "1"],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        SERVERS.append(("openssl ocsp", proc, True))
        # Ready when it answers a real request: a bare connect-and-close
        # would wedge one of its two children (see docs/SCALE.md).
        self._wait_ready(port, "POST", "/", self.certs[0]["der"],
                         {"Content-Type": "application/ocsp-request"}, proc, "openssl ocsp")
        return proc, port

    def _wait_ready(self, port, method, path, body, headers, proc, name):
        deadline = time.monotonic() + 15
        while True:
            if proc.poll() is not None:
                raise BenchError(f"{name} exited ({proc.returncode}) at start")
            try:
                st, _, _ = hreq(port, method, path, body, headers)
                if st == 200:
                    return
            except (ConnectionError, OSError, http.client.HTTPException):
                pass
            if time.monotonic() > deadline:
                raise BenchError(f"{name} did not answer on port {port}")
            time.sleep(0.1)

    def answers(self, port, path_of, use_get=False, keepalive=True):
        """Every certificate's answer, parsed."""
        out = []
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30) if keepalive else None
        try:
            for c in self.certs:
                if use_get:
                    st, h, body = hreq(port, "GET", c["path"], conn=conn)
                else:
                    st, h, body = hreq(port, "POST", path_of, c["der"],
                                       {"Content-Type": "application/ocsp-request"}, conn=conn)
                if st != 200:
                    raise BenchError(f"OCSP for {c['serial']} answered HTTP {st}: {body[:200]!r}")
                out.append((parse_ocsp(body), body))
        finally:
            if conn:
                conn.close()
        return out

    def check_answers(self, who, got):
        bad = [(c["serial"], a, c["want"]) for c, (a, _) in zip(self.certs, got)
               if a != c["want"]]
        for serial, a, want in bad[:5]:
            self.fail(f"{who}: certificate {serial}: answered {a}, the store says {want}")
        if bad:
            raise BenchError(f"{who}: {len(bad)} of {len(self.certs)} answers differ from the store")

    def openssl_url_check(self, url):
        """`openssl ocsp -url` on two good and one revoked certificate: the
        signature verifies, and the status printed."""
        lines = []
        for c in (self.certs[0], self.certs[1], self.certs[-1]):
            r = subprocess.run(
                ["openssl", "ocsp", "-issuer", self.p("sign.pem"), "-cert", c["pem"],
                 "-no_nonce", "-url", url, "-CAfile", self.p("root.pem"),
                 "-verify_other", self.p("sign.pem")],
                capture_output=True, timeout=30)
            text = (r.stdout + r.stderr).decode(errors="replace")
            if r.returncode != 0 or "Response verify OK" not in text:
                raise BenchError(f"openssl ocsp -url {url} on {c['serial']}:\n{text}")
            st = re.search(r": (good|revoked|unknown)\n", text).group(1)
            reason = re.search(r"Reason: (\S+)", text)
            lines.append((c["serial"], st, reason.group(1) if reason else None))
        return lines

    def ocsp_peer(self):
        proc, port = self.openssl_responder()
        got = self.answers(port, "/", keepalive=False)
        self.check_answers("openssl ocsp", got)
        self.peer_url_check = self.openssl_url_check(f"http://127.0.0.1:{port}/")
        self.peer_bytes = sum(len(b) for _, b in got) / len(got)
        log(f"openssl ocsp: {len(got)} answers agree with the store; load {self.secs} s")
        res = wrk(f"http://127.0.0.1:{port}/",
                  ["post", "application/ocsp-request"] + [c["req"] for c in self.certs],
                  self.secs, lambda: group_pids(proc.pid))
        res["procs"] = len(group_pids(proc.pid))
        # Stop it at once: wrk's last connections, closed before sending,
        # leave its children spinning (OpenSSL 3.0's responder loops on EOF).
        forget(proc)
        self.peer = res
        self.record("OCSP POST", "openssl ocsp -multi 2 (signs each; a connection each)",
                    res)

    # -- jpkid --
    def start_jpkid(self, threads):
        port = free_port()
        logf = open(self.p(f"jpkid-{threads}.log"), "wb")
        proc = subprocess.Popen(
            [self.jpkid, "--listen", f"127.0.0.1:{port}", "--store", self.store,
             "--access-log", "off", "--threads", str(threads)],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        SERVERS.append((f"jpkid --threads {threads}", proc, False))
        self._wait_ready(port, "GET", "/healthz", None, None, proc, "jpkid")
        return proc, port

    def jpkid_ocsp(self, threads, first):
        proc, port = self.start_jpkid(threads)
        # Warm-up: one POST per certificate (signed live, then cached), then
        # the GET form of each, which must give the same bytes.
        posted = self.answers(port, "/ocsp/sign")
        self.check_answers(f"jpkid --threads {threads} POST", posted)
        gotten = self.answers(port, None, use_get=True)
        self.check_answers(f"jpkid --threads {threads} GET", gotten)
        for c, (_, a), (_, b) in zip(self.certs, posted, gotten):
            if a != b:
                raise BenchError(f"jpkid: GET and POST answers differ for {c['serial']}")
        if first:
            self.jpkid_bytes = sum(len(b) for _, b in posted) / len(posted)
            mine = self.openssl_url_check(f"http://127.0.0.1:{port}/ocsp/sign")
            if mine != self.peer_url_check:
                raise BenchError(f"openssl ocsp -url: jpkid says {mine}, "
                                 f"openssl ocsp says {self.peer_url_check}")
            self.url_check = mine
        log(f"jpkid --threads {threads}: answers agree with the store and the peer; "
            f"load {self.secs} s POST, {self.secs} s GET")
        for form, args in (("POST", ["post", "application/ocsp-request"] +
                            [c["req"] for c in self.certs]),
                           ("GET", ["get", self.p("get-paths.txt")])):
            res = jpkid_wrk(port, proc.pid, f"http://127.0.0.1:{port}/ocsp/sign",
                            args, self.secs)
            res["live"] = res["ocsp"]["live"] + res["ocsp"]["store"]
            res["cache"] = res["ocsp"]["cache"]
            if res["live"]:
                self.fail(f"jpkid {form}: {res['live']} answers under load were not "
                          "from the cache")
            if res["cache"] < res["requests"]:
                self.fail(f"jpkid {form}: {res['cache']} cache answers for "
                          f"{res['requests']} requests")
            self.record(f"OCSP {form}", f"jpkid --threads {threads} (from memory)", res)
            setattr(self, f"jpkid_{form.lower()}_{threads}", res)
        return proc, port

    def api_rates(self, proc, port, threads):
        for name, label in (("window", "GET /api/v1/renewal-window?expires=2027-01-10"),
                            ("healthz", "GET /healthz")):
            path = open(self.p(f"{name}.txt")).read().strip()
            st, _, body = hreq(port, "GET", path)
            if st != 200:
                raise BenchError(f"{path} answered {st}: {body[:200]!r}")
            res = jpkid_wrk(port, proc.pid, f"http://127.0.0.1:{port}/",
                            ["get", self.p(f"{name}.txt")], self.short)
            self.record("API", f"{label} (jpkid --threads {threads})", res)

    def renewals(self, port, threads):
        st, h, body = hreq(port, "POST", "/api/v1/login",
                           json.dumps({"user": STAFF_USER, "password": STAFF_PW}),
                           {"Content-Type": "application/json"})
        if st != 200:
            raise BenchError(f"login answered {st}: {body[:200]!r}")
        csrf = json.loads(body)["csrf"]
        m = re.search(r"jpki_session=([^;]+)", h.get("Set-Cookie", ""))
        if not m:
            raise BenchError("login set no jpki_session cookie")
        cookie = f"jpki_session={m.group(1)}"
        # Residents whose window is open: candidates from the store, each
        # confirmed by the API (renewal.state == "open").
        db = sqlite3.connect(f"file:{self.store}?mode=ro", uri=True)
        cands = [r[0] for r in db.execute(
            "SELECT h.resident, min(h.expires) e FROM holder_cert h "
            "JOIN card c ON c.serial = h.card AND c.state = 'active' "
            "JOIN resident r ON r.id = h.resident AND r.status = 'registered' "
            "WHERE h.expires BETWEEN date('now', '+2 days') AND date('now', '+85 days') "
            "AND h.serial NOT IN (SELECT serial FROM revocation) "
            "GROUP BY h.resident HAVING count(DISTINCT h.kind) = 2 "  # both certificates
            "ORDER BY e, h.resident")]
        db.close()
        ids = []
        want = self.n_renew + self.n_probe
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for rid in cands:
            st, _, body = hreq(port, "GET", f"/api/v1/residents/{rid}",
                               headers={"Cookie": cookie}, conn=conn)
            if st != 200:
                raise BenchError(f"GET /api/v1/residents/{rid} answered {st}")
            if json.loads(body)["renewal"]["state"] == "open":
                ids.append(rid)
            if len(ids) == want:
                break
        conn.close()
        if len(ids) < want:
            raise BenchError(f"only {len(ids)} residents with an open window "
                             f"({want} wanted)")
        self.renew = self.run_renewals(ids[:self.n_renew], port, csrf, cookie, None)
        self.renew["threads"] = threads
        # The same again, fewer, with relying parties asking OCSP meanwhile on
        # keep-alive connections opened before the renewals start.
        self.probe = self.run_renewals(ids[self.n_renew:], port, csrf, cookie, PROBES)

    def run_renewals(self, ids, port, csrf, cookie, probes):
        log(f"renewing {len(ids)} residents with 2 clients"
            + (f", {probes} OCSP clients asking meanwhile" if probes else ""))
        queue = list(ids)
        lock = threading.Lock()
        lat, errs, plat, perr = [], [], [], []
        done = threading.Event()
        body = json.dumps({"pins": PINS})
        hdrs = {"Content-Type": "application/json", "X-CSRF-Token": csrf, "Cookie": cookie}

        def client():
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            while True:
                with lock:
                    if not queue:
                        break
                    rid = queue.pop(0)
                t = time.monotonic()
                try:
                    st, _, out = hreq(port, "POST", f"/api/v1/residents/{rid}/renew",
                                      body, hdrs, conn=c)
                    ok = st == 200 and len(json.loads(out).get("issued", [])) == 2
                except Exception as e:  # noqa: BLE001 - recorded, fails the run
                    st, out, ok = None, repr(e).encode(), False
                    c.close()
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                dt = time.monotonic() - t
                with lock:
                    (lat if ok else errs).append(dt if ok else (rid, st, out[:160].decode(errors="replace")))
            c.close()

        def prober(conn, k):
            i = k
            while not done.is_set():
                cert = self.certs[i % len(self.certs)]
                i += probes
                t = time.monotonic()
                try:
                    st, _, _ = hreq(port, "POST", "/ocsp/sign", cert["der"],
                                    {"Content-Type": "application/ocsp-request"}, conn=conn)
                except Exception as e:  # noqa: BLE001
                    st = repr(e)
                dt = time.monotonic() - t
                with lock:
                    (plat if st == 200 else perr).append(dt if st == 200 else st)
                time.sleep(PROBE_EVERY)

        pconns = []
        for k in range(probes or 0):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            hreq(port, "GET", "/healthz", conn=conn)  # connected, kept alive
            pconns.append(conn)
        pts = [threading.Thread(target=prober, args=(c, k)) for k, c in enumerate(pconns)]
        for t in pts:
            t.start()
        c0 = thread_cpu(self._renew_pid)
        b0 = busy_seconds()
        t0 = time.monotonic()
        ts = [threading.Thread(target=client) for _ in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        wall = time.monotonic() - t0
        b1 = busy_seconds()
        c1 = thread_cpu(self._renew_pid)
        done.set()
        for t in pts:
            t.join()
        for c in pconns:
            c.close()
        per_thread = sorted((c1[k] - c0.get(k, 0) for k in c1), reverse=True)
        cpu = sum(per_thread)
        others = max(0.0, (b1 - b0) - cpu) / wall  # clients and other tenants, cores
        for rid, st, out in errs[:5]:
            self.fail(f"renew resident {rid}: HTTP {st} {out!r}")
        if errs:
            self.fail(f"{len(errs)} of {len(ids)} renewals failed")
        if perr:
            self.fail(f"OCSP during renewals: {len(perr)} failed ({perr[0]})")
        lat.sort()
        plat.sort()
        return {"n": len(lat), "wall": wall, "rps": len(lat) / wall,
                "p50": pct(lat, 50), "p99": pct(lat, 99), "cpu": cpu, "others": others,
                "busy": [c / wall for c in per_thread if c / wall >= 0.05],
                "probe_n": len(plat), "probe_p50": pct(plat, 50),
                "probe_p99": pct(plat, 99), "probe_max": plat[-1] if plat else 0,
                "probe_slow": sum(1 for x in plat if x >= 0.1)}

    # -- output --
    def record(self, group, what, res):
        if res.get("not200"):
            self.fail(f"{what}: jpkid answered other than 200: {res['not200']}")
        if "answered" in res and res["answered"] < res["requests"]:
            self.fail(f"{what}: jpkid counted {res['answered']} answers, wrk "
                      f"{res['requests']}")
        if res["errors"]:
            self.fail(f"{what}: wrk counted errors: connect {res['connect']}, read "
                      f"{res['read']}, write {res['write']}, HTTP >= 400 {res['status']}, "
                      f"timeout {res['timeout']}\n{res['raw']}")
        self.rows.append((group, what, res))

    def report(self):
        cpu = "?"
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
            cpu = m.group(1) if m else cpu
        ossl = " ".join(run(["openssl", "version"]).decode().split()[:2])
        print()
        print("bench/http: jpkid on loopback, next to its peers (one run)")
        print(f"  machine  {os.cpu_count()} CPUs ({cpu}); wrk and the server share them")
        print(f"  load     wrk -t{WRK_THREADS} -c{WRK_CONNS}, {self.secs} s a run "
              f"({self.short} s for the API); {ossl}")
        print(f"  store    SQLite, {RESIDENTS} demo residents (seeded in {self.seed_s:.1f} s); "
              f"OCSP requests for {len(self.certs)} signing certificates "
              f"({self.n_good} good, {self.n_revoked} revoked), no nonce, cycled")
        print(f"  checked  every answer of both responders parsed (python3-cryptography) "
              f"and equal to the store;")
        print(f"           openssl ocsp -url verifies both responders' signatures: "
              + ", ".join(f"{s[:8]}.. {st}{' ' + r if r else ''}" for s, st, r in self.url_check))
        print("  under load: wrk counted no socket error, timeout or status >= 400; jpkid's "
              "/metrics counted only 200s,")
        print("           and every OCSP answer from its cache (none signed during a run)")
        print(f"  size     answer {self.jpkid_bytes:.0f} B (jpkid), "
              f"{self.peer_bytes:.0f} B (openssl ocsp)")
        print()
        w = max(len(what) for _, what, _ in self.rows) + 2
        hdr = (f"  {'':<{w}}{'req/s':>10}{'p50':>10}{'p99':>10}{'server CPU':>13}"
               f"{'wrk':>8}{'others':>8}")
        groups = list(dict.fromkeys(g for g, _, _ in self.rows))
        rows = sorted(self.rows, key=lambda row: groups.index(row[0]))
        last = None
        for group, what, r in rows:
            if group != last:
                print(f"{group}" + (hdr[len(group):] if last is None else ""))
                last = group
            print(f"  {what:<{w}}{r['rps']:>10,.0f}{ms(r['p50_us']):>10}{ms(r['p99_us']):>10}"
                  f"{r['server_cpu'] * 1e6 / max(r['requests'], 1):>8.1f} us/r"
                  f"{r['wrk_cpu'] / (r['duration_us'] / 1e6):>7.2f}c"
                  f"{r['other_cpu'] / (r['duration_us'] / 1e6):>7.2f}c")
        print()
        print("  server CPU: the server's user+system CPU time per answered request; wrk, "
              "others: cores (of 2) used by wrk,")
        print("  and by the rest of the machine meanwhile (other tenants of the VM, interrupts)")
        print(f"  openssl ocsp: HTTP/1.0, closes after each answer (wrk reconnects: "
              f"{self.peer['requests']:,} connections); jpkid keeps them alive")
        print()
        print("OCSP, jpkid / openssl ocsp (POST)")
        best = None
        for threads in (2, 4):
            r = getattr(self, f"jpkid_post_{threads}")
            ratio = r["rps"] / self.peer["rps"]
            g = getattr(self, f"jpkid_get_{threads}")
            print(f"  jpkid --threads {threads}: POST {ratio:.1f}x, GET "
                  f"{g['rps'] / self.peer['rps']:.1f}x")
            if best is None or ratio > best[1]:
                best = (threads, ratio)
        verdict = "met" if best[1] >= 20 else "not met"
        print(f"  target 20x: {verdict} (best: --threads {best[0]}, {best[1]:.1f}x)")
        print()
        rn = self.renew
        bound = self.bound_core * 2
        print(f"Renewals: POST /api/v1/residents/{{id}}/renew, 2 clients, {rn['n']} residents "
              f"(jpkid --threads {rn['threads']})")
        print(f"  jpkid     {rn['rps']:>6.2f} renewals/s   p50 {rn['p50'] * 1000:,.0f} ms"
              f"   p99 {rn['p99'] * 1000:,.0f} ms   ({rn['wall']:.1f} s; "
              f"{rn['cpu'] / max(rn['n'], 1) * 1000:,.0f} ms of jpkid CPU a renewal)")
        each = rn["wall"] * 2 / max(rn["n"], 1)
        cpu1 = rn["cpu"] / max(rn["n"], 1)
        print(f"            a client waits {each * 1000:,.0f} ms a renewal = {cpu1 * 1000:,.0f} ms "
              f"of jpkid CPU + {(each - cpu1) * 1000:,.0f} ms off CPU (fsync here: "
              f"{self.fsync_rate:,.0f}/s; the CPU others used: {rn['others']:.2f} of 2 "
              f"cores; the other client)")
        print(f"            jpkid threads that worked: {len(rn['busy'])} of {rn['threads']} ("
              + ", ".join(f"{b * 100:.0f}% busy" for b in rn["busy"]) + ")"
              + ("; both clients' connections were on ONE thread: the renewals ran "
                 "one at a time" if len(rn["busy"]) == 1 else ""))
        print(f"  bound     {bound:>6.2f} renewals/s   = 2 cores x 1/(2/keygen + 2/sign); "
              f"RSA-2048 on one core: sign {self.sign_rate:,.0f}/s (openssl speed), keygen "
              f"{self.keygen_rate:.2f}/s ({self.keygen_n} x openssl genrsa)")
        print(f"  reached   {rn['rps'] / bound * 100:>6.0f} %   (2 cores / jpkid's own CPU time "
              f"a renewal: {2 / (rn['cpu'] / max(rn['n'], 1)):.2f} renewals/s)")
        pr = self.probe
        idle = self.jpkid_post_4
        print(f"  OCSP during renewals: {pr['n']} more renewals ({pr['rps']:.2f}/s) while {PROBES} "
              f"keep-alive clients POST OCSP every {PROBE_EVERY * 1000:.0f} ms")
        print(f"            {pr['probe_n']} answers: p50 {pr['probe_p50'] * 1000:.2f} ms, "
              f"p99 {pr['probe_p99'] * 1000:,.0f} ms, max {pr['probe_max'] * 1000:,.0f} ms; "
              f"{pr['probe_slow']} ({pr['probe_slow'] / max(pr['probe_n'], 1) * 100:.0f}%) "
              f"took >= 100 ms (p99 under full load, no renewals: {ms(idle['p99_us'])})")
        if self.quick:
            print("\n  (--quick: short runs, a smoke test; not for the record)")

    def main(self):
        self.setup()
        self.rsa_peers()
        self.ocsp_peer()
        proc, port = self.jpkid_ocsp(2, first=True)
        forget(proc)
        proc, port = self.jpkid_ocsp(4, first=False)
        self.api_rates(proc, port, 4)
        self._renew_pid = proc.pid
        self.renewals(port, 4)
        forget(proc)
        self.report()


def pct(sorted_vals, p):
    """Nearest-rank percentile."""
    if not sorted_vals:
        return float("nan")
    k = max(0, min(len(sorted_vals) - 1, int(-(-p * len(sorted_vals) // 100)) - 1))
    return sorted_vals[k]


def ms(us):
    return f"{us / 1000:.2f} ms" if us < 10000 else f"{us / 1000:.0f} ms"


def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        sys.exit("usage: bench/http/run.sh BUILD_DIR [--quick] [--keep]")
    b = None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        b = Bench(args[0], "--quick" in args, "--keep" in args)
        t = time.monotonic()
        b.main()
        print(f"\n  total {time.monotonic() - t:.0f} s")
    except BenchError as e:
        if b:
            b.fail(str(e))
        else:
            print(f"bench/http: {e}", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        print("bench/http: interrupted", file=sys.stderr)
        return 130
    finally:
        stop_all()
        if b:
            b.cleanup()
    if b.failures:
        print(f"\nbench/http: FAILED ({len(b.failures)}):", file=sys.stderr)
        for f in b.failures:
            print("  " + f.splitlines()[0], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
