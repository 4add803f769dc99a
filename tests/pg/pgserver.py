#!/usr/bin/env python3
"""A throw-away PostgreSQL server for the tests (standard library only).

    with PgServer() as pg:
        url = pg.createdb("jpki")   # postgresql:///jpki?host=/tmp/jpkipgXXXX&user=postgres
        ...

or, from the command line (this is how CTest runs the PostgreSQL tests):

    python3 tests/pg/pgserver.py run -- CMD ARGS...

starts a server, creates the database `jpki`, runs CMD with
JPKI_TEST_STORE=<its URL>, stops the server and exits with CMD's status.

The server lives in a new directory /tmp/jpkipgXXXXXXXX (short: it is also
the Unix socket directory, and socket paths are limited to about 100
bytes). It listens on that socket only (no TCP), trusts every local
connection, and runs with fsync off: it exists for one test run. The
directory is removed when the server stops: at the end of the `with`, on an
exception, and on SIGTERM, SIGINT or SIGHUP. A run that was killed outright
(SIGKILL, e.g. a CTest timeout) leaves its directory behind; the next start
stops that server and removes the directory (each directory records the
process that owns it, in owner.pid).

As root, the directory is given to the `postgres` user and initdb and
pg_ctl run as that user (`runuser -u postgres --`): PostgreSQL refuses to
run as root. Otherwise they run as the current user. The binaries are taken
from the highest /usr/lib/postgresql/*/bin (Debian's layout), else from
PATH.
"""
import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.parse

PREFIX = "jpkipg"
TMP = "/tmp"
SUPERUSER = "postgres"
SERVER_OPTIONS = ("-c listen_addresses='' -k {dir} -c fsync=off "
                  "-c full_page_writes=off -c synchronous_commit=off "
                  "-c max_connections=50 -c log_checkpoints=off")


class PgServerError(RuntimeError):
    pass


def find_bindir():
    """The highest /usr/lib/postgresql/N/bin with initdb, or None (PATH)."""
    best = None
    for d in glob.glob("/usr/lib/postgresql/*/bin"):
        m = re.fullmatch(r"/usr/lib/postgresql/(\d+)(?:\.(\d+))?/bin", d)
        if m is None or not os.access(os.path.join(d, "initdb"), os.X_OK):
            continue
        key = (int(m.group(1)), int(m.group(2) or 0))
        if best is None or key > best[0]:
            best = (key, d)
    return best[1] if best else None


def _pid_alive(pid):
    """True for a running process (a zombie, killed but not yet waited
    for, is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


class _Terminated(Exception):
    """Raised from a signal handler so that cleanup runs."""


class PgServer:
    def __init__(self, bindir=None, quiet=True):
        self.bindir = bindir or find_bindir()
        self.quiet = quiet
        self.dir = None
        self.data = None
        self.as_postgres = os.geteuid() == 0
        self._started = False
        self._old_handlers = {}

    # -- paths and commands
    def bin(self, name):
        if self.bindir:
            return os.path.join(self.bindir, name)
        path = shutil.which(name)
        if path is None:
            raise PgServerError(f"{name} not found (install postgresql)")
        return path

    def _server_cmd(self, argv):
        """argv as the server's owner: `postgres` when we are root."""
        if self.as_postgres:
            return ["runuser", "-u", SUPERUSER, "--", *argv]
        return argv

    def _run(self, argv, check=True, as_owner=False):
        cmd = self._server_cmd(argv) if as_owner else argv
        cp = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, timeout=120)
        if check and cp.returncode != 0:
            raise PgServerError(f"{' '.join(cmd)}: exit {cp.returncode}\n"
                                + cp.stdout.decode("utf-8", "replace"))
        return cp

    # -- lifetime
    def start(self):
        reap_stale()
        self.dir = tempfile.mkdtemp(prefix=PREFIX, dir=TMP)
        if len(self.dir) + len("/.s.PGSQL.5432") >= 100:
            raise PgServerError(f"{self.dir}: too long for a socket directory")
        with open(os.path.join(self.dir, "owner.pid"), "w") as f:
            f.write(f"{os.getpid()}\n")
        if self.as_postgres:
            pw = pwd.getpwnam(SUPERUSER)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.data = os.path.join(self.dir, "data")
        locale = "C.UTF-8" if _has_c_utf8() else "C"
        self._run([self.bin("initdb"), "-D", self.data, "--auth=trust", "-U", SUPERUSER,
                   "--encoding=UTF8", f"--locale={locale}", "--no-sync",
                   "--no-instructions"], as_owner=True)
        self._started = True
        self._run([self.bin("pg_ctl"), "-D", self.data, "-l",
                   os.path.join(self.dir, "server.log"),
                   "-o", SERVER_OPTIONS.format(dir=self.dir), "-w", "-t", "60", "start"],
                  as_owner=True)
        return self

    def stop(self):
        if self.dir is None:
            return
        try:
            if self._started:
                stop_server(self.bin("pg_ctl"), self.data, self._server_cmd)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
            self._started = False

    def log(self):
        try:
            with open(os.path.join(self.dir, "server.log"), encoding="utf-8",
                      errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def __enter__(self):
        self._install_handlers()
        try:
            return self.start()
        except BaseException:
            self.stop()
            self._restore_handlers()
            raise

    def __exit__(self, *exc):
        try:
            self.stop()
        finally:
            self._restore_handlers()
        return False

    def _install_handlers(self):
        if threading.current_thread() is not threading.main_thread():
            return

        def handler(signum, frame):
            raise _Terminated(signal.Signals(signum).name)

        for s in (signal.SIGTERM, signal.SIGHUP):
            self._old_handlers[s] = signal.signal(s, handler)

    def _restore_handlers(self):
        for s, h in self._old_handlers.items():
            signal.signal(s, h)
        self._old_handlers = {}

    # -- databases
    def url(self, dbname):
        q = urllib.parse.urlencode({"host": self.dir, "user": SUPERUSER}, safe="/")
        return f"postgresql:///{urllib.parse.quote(dbname)}?{q}"

    def createdb(self, dbname):
        self._run([self.bin("createdb"), "-h", self.dir, "-U", SUPERUSER, dbname])
        return self.url(dbname)

    def dropdb(self, dbname):
        self._run([self.bin("dropdb"), "-h", self.dir, "-U", SUPERUSER, "--force",
                   "--if-exists", dbname])


def _has_c_utf8():
    try:
        out = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout
    except OSError:
        return False
    return any(x.lower() in ("c.utf8", "c.utf-8") for x in out.split())


def stop_server(pg_ctl, data, wrap):
    """pg_ctl stop -m fast, then immediate, then SIGKILL the postmaster."""
    for mode in ("fast", "immediate"):
        if not os.path.exists(os.path.join(data, "postmaster.pid")):
            return
        cp = subprocess.run(wrap([pg_ctl, "-D", data, "-m", mode, "-w", "-t", "30", "stop"]),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
        if cp.returncode == 0:
            return
    try:
        with open(os.path.join(data, "postmaster.pid")) as f:
            os.kill(int(f.readline()), signal.SIGKILL)
    except (OSError, ValueError):
        pass


def reap_stale():
    """Stops the servers of runs that died without cleaning up."""
    for d in glob.glob(os.path.join(TMP, PREFIX + "*")):
        try:
            with open(os.path.join(d, "owner.pid")) as f:
                owner = int(f.readline())
        except (OSError, ValueError):
            continue
        if _pid_alive(owner):
            continue
        data = os.path.join(d, "data")
        wrap = (lambda argv: ["runuser", "-u", SUPERUSER, "--", *argv]) \
            if os.geteuid() == 0 else (lambda argv: argv)
        with contextlib.suppress(Exception):
            bindir = find_bindir()
            pg_ctl = os.path.join(bindir, "pg_ctl") if bindir else shutil.which("pg_ctl")
            if pg_ctl:
                stop_server(pg_ctl, data, wrap)
        shutil.rmtree(d, ignore_errors=True)


def _stop_child(child):
    if child is None or child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def run(argv):
    """Runs argv with JPKI_TEST_STORE set; returns its exit status. The
    child is stopped before the server, whatever happens."""
    try:
        with PgServer() as pg:
            url = pg.createdb("jpki")
            env = dict(os.environ, JPKI_TEST_STORE=url)
            print(f"pgserver: {url}", flush=True)
            child = None
            try:
                child = subprocess.Popen(argv, env=env)
                rc = child.wait()
            finally:
                _stop_child(child)
            if rc != 0:
                log = pg.log()
                if log:
                    print("pgserver: the server's log (last 40 lines):\n"
                          + "\n".join(log.splitlines()[-40:]), file=sys.stderr)
            return rc if rc >= 0 else 128 - rc
    except _Terminated as e:
        print(f"pgserver: {e}, stopped the server", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("pgserver: interrupted, stopped the server", file=sys.stderr)
        return 130
    except (PgServerError, OSError) as e:
        print(f"pgserver: {e}", file=sys.stderr)
        return 1


def main(args):
    if len(args) >= 2 and args[0] == "run" and args[1] == "--" and len(args) > 2:
        return run(args[2:])
    print("usage: pgserver.py run -- CMD [ARGS...]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
