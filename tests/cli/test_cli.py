#!/usr/bin/env python3
"""CLI tests: run the jpki binary and compare stdout, stderr and exit codes.

usage: test_cli.py JPKI SOURCE_DIR

Each case: (args, stdin, expected exit code, expected stdout or None,
substring expected on stderr or None). Every failing case is listed.
Bad input must give exactly one line on stderr and exit 2.
"""
import json
import os
import subprocess
import sys
import tempfile

JPKI, SRC = sys.argv[1], sys.argv[2]
OFF = os.path.join(SRC, "data", "offices")
YOKO = os.path.join(OFF, "yokohama-ward.ini")
SHIMO = os.path.join(OFF, "shimotsuma.ini")
TOSHIMA = os.path.join(OFF, "toshima.ini")

failures = []


def run(args, stdin="", env=None):
    e = dict(os.environ)
    e.pop("JPKI_NOW", None)
    if env:
        e.update(env)
    return subprocess.run([JPKI] + args, input=stdin.encode(), capture_output=True,
                          env=e, timeout=30)


def case(args, rc, out=None, err=None, stdin="", env=None):
    r = run(args, stdin, env)
    so, se = r.stdout.decode(), r.stderr.decode()
    why = []
    if r.returncode != rc:
        why.append(f"exit {r.returncode}, want {rc}")
    if out is not None and so != out:
        why.append(f"stdout {so!r}, want {out!r}")
    if err is not None and err not in se:
        why.append(f"stderr {se!r} lacks {err!r}")
    if rc == 2 and len(se.splitlines()) != 1:
        why.append(f"bad input must give one stderr line, got {se!r}")
    if rc == 0 and se and "warning" not in se:
        why.append(f"unexpected stderr {se!r}")
    if why:
        failures.append(f"jpki {' '.join(args)}: " + "; ".join(why))
    return r


def json_case(args, want, rc=0, env=None):
    r = case(args, rc, env=env)
    try:
        got = json.loads(r.stdout.decode())
    except ValueError as exc:
        failures.append(f"jpki {' '.join(args)}: not JSON ({exc})")
        return None
    if want is None:
        pass
    elif isinstance(want, dict):
        diff = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
        if diff:
            failures.append(f"jpki {' '.join(args)}: JSON differs {diff}")
    elif got != want:
        failures.append(f"jpki {' '.join(args)}: JSON {got}, want {want}")
    return got


# ---- top level ----
case([], 2, err="a command is required")
case(["--help"], 0)
case(["frobnicate"], 2, err="unknown command")
for cmd in ["holidays", "cert-expiry", "card-expiry", "renewal-window", "age",
            "wareki", "pin-check", "office", "reservable", "bring"]:
    r = case([cmd, "--help"], 0)
    if f"usage: jpki {cmd}" not in r.stdout.decode():
        failures.append(f"{cmd} --help lacks its usage line")

# ---- holidays ----
r = case(["holidays", "2026"], 0)
lines = r.stdout.decode().splitlines()
if len(lines) != 18 or lines[0] != "2026-01-01\t元日" or \
        "2026-09-22\t休日" not in lines or lines[-1] != "2026-11-23\t勤労感謝の日":
    failures.append(f"holidays 2026: {lines}")
case(["holidays", "1948"], 0,
     out="1948-09-23\t秋分の日\n1948-11-03\t文化の日\n1948-11-23\t勤労感謝の日\n")
got = json_case(["holidays", "2019", "--json"], None) or []
if len(got) != 22 or got[0] != {"date": "2019-01-01", "name": "元日"} or \
        {"date": "2019-05-01", "name": "休日（祝日扱い）"} not in got:
    failures.append(f"holidays 2019 --json: {got[:3]}...")
case(["holidays", "1947"], 2, err="out of range")
case(["holidays", "2100"], 2, err="out of range")
case(["holidays", "20x6"], 2, err="not a year")
case(["holidays", "02026"], 2, err="not a year")
case(["holidays"], 2, err="YEAR is required")
case(["holidays", "2026", "2027"], 2, err="unexpected argument")
case(["holidays", "2026", "--jsn"], 2, err="unknown option '--jsn'")

# ---- cert-expiry (DOMAIN §2, seeds 000, 004) ----
base = ["cert-expiry", "--kind", "sign", "--birth", "1990-05-20"]
case(base + ["--issued", "2026-03-01", "--renewing", "2026-05-20"], 0, out="2031-05-20\n")
case(base + ["--issued", "2026-05-20", "--renewing", "2026-05-20"], 0, out="2032-05-20\n")
# Before the window: the 5th birthday, shorter, with a warning.
case(base + ["--issued", "2026-02-20", "--renewing", "2026-05-20"], 0,
     out="2030-05-20\n", err="warning: renewing before the window (opens 2026-02-21)")
case(base + ["--issued", "2026-06-01", "--renewing", "2026-05-20"], 0, out="2031-05-20\n")
case(base + ["--issued", "2026-03-01"], 0, out="2030-05-20\n")
json_case(["cert-expiry", "--kind", "sign", "--birth", "1980-04-01", "--issued",
           "2025-03-01", "--renewing", "2025-04-01", "--json"],
          {"expires": "2030-04-01", "limited_by": "birthday", "in_window": True,
           "nth_birthday": 6, "window": "open"})
json_case(base + ["--issued", "2026-03-01", "--card-expires", "2029-01-01", "--json"],
          {"expires": "2029-01-01", "limited_by": "card", "in_window": False,
           "window": None})
json_case(base + ["--issued", "2026-03-01", "--auth-expires", "2028-05-20",
                  "--card-expires", "2029-01-01", "--json"],
          {"expires": "2028-05-20", "limited_by": "auth"})
json_case(["cert-expiry", "--kind", "auth", "--birth", "1990-05-20", "--issued",
           "2026-03-01", "--stay-expires", "2027-08-31", "--json"],
          {"expires": "2027-08-31", "limited_by": "stay"})
# Feb 29 births: the 5th birthday after 2025-03-01 is in 2030, a common year.
case(["cert-expiry", "--kind", "auth", "--birth", "2000-02-29", "--issued",
      "2025-03-01"], 0, out="2030-02-28\n")
case(["cert-expiry", "--kind", "auth", "--birth", "2000-02-29", "--issued",
      "2025-03-01", "--feb29", "mar1"], 0, out="2030-03-01\n")
case(["cert-expiry", "--kind", "auth", "--birth", "2000-02-29", "--issued",
      "2025-03-01", "--feb29", "mar2"], 2, err="--feb29")
# Eligibility: legal age 15 is reached the day before the 15th birthday.
young = ["cert-expiry", "--kind", "sign", "--birth", "2011-04-01"]
case(young + ["--issued", "2026-03-31"], 0, out="2030-04-01\n")
case(young + ["--issued", "2026-03-30"], 1, err="no signing certificate under 15")
case(["cert-expiry", "--kind", "auth", "--birth", "2011-04-01", "--issued",
      "2026-03-30"], 0, out="2030-04-01\n")
case(base + ["--issued", "2026-03-01", "--ward"], 1, err="adult ward")
case(base + ["--issued", "2026-03-01", "--ward", "--ward-present"], 0, out="2030-05-20\n")
case(base + ["--issued", "2026-03-01", "--ward-present"], 2, err="needs --ward")
# With --json a refusal is also a JSON document on stdout.
json_case(young + ["--issued", "2026-03-30", "--json"], {"error": "refused"}, rc=1)
json_case(["bring", "--procedure", "revoke", "--applicant", "proxy-with-form",
           "--json"], {"error": "refused"}, rc=1)
case(["cert-expiry", "--kind", "auth", "--birth", "2190-01-01", "--issued",
      "2196-01-01"], 2, err="after 2199-12-31")
# An option's value never starts with "--"; empty values are refused.
case(base + ["--issued", "--renewing", "2026-05-20"], 2, err="--issued needs a value")
case(["cert-expiry", "--kind", "sign", "--birth", "--help"], 2, err="--birth needs a value")
# Refusals and bad input.
case(base + ["--issued", "2026-03-01", "--card-expires", "2026-02-01"], 1,
     err="the card ended on 2026-02-01")
case(["cert-expiry", "--kind", "auth", "--birth", "1990-05-20", "--issued",
      "2026-03-01", "--auth-expires", "2027-01-01"], 2, err="only a signing")
case(base + ["--issued", "2026-02-30"], 2, err="--issued: '2026-02-30': no such day")
case(base + ["--issued", "2026-2-3"], 2, err="not a date")
case(base + ["--issued", "2026-03-01x"], 2, err="not a date")
case(base + ["--issued", "2200-01-01"], 2, err="out of range")
case(base + ["--issued", "1867-12-31"], 2, err="out of range")
case(base + ["--issued"], 2, err="--issued needs a value")
case(base + ["--issued", "2026-03-01", "--issued", "2026-03-02"], 2, err="given twice")
case(base + ["--issued", "2026-03-01", "--colour", "red"], 2, err="unknown option")
case(base, 2, err="--issued is required")
case(["cert-expiry", "--kind", "both", "--birth", "1990-05-20", "--issued",
      "2026-03-01"], 2, err="not sign or auth")
case(["cert-expiry", "--kind", "sign", "--birth", "2026-05-20", "--issued",
      "2026-03-01"], 2, err="before --birth")
case(base + ["--issued=2026-03-01", "--renewing=2026-05-20"], 0, out="2031-05-20\n")

# ---- card-expiry ----
case(["card-expiry", "--birth", "2000-05-20", "--applied", "2026-03-01", "--issued",
      "2026-04-01"], 0, out="2035-05-20\n")
case(["card-expiry", "--birth", "2010-05-20", "--applied", "2026-03-01", "--issued",
      "2026-04-01"], 0, out="2030-05-20\n")
# The threshold was 20 before 2022-04-01 (legal age on the application day).
case(["card-expiry", "--birth", "2003-01-10", "--applied", "2022-03-31", "--issued",
      "2022-05-10"], 0, out="2027-01-10\n")
case(["card-expiry", "--birth", "2003-01-10", "--applied", "2022-04-01", "--issued",
      "2022-05-10"], 0, out="2032-01-10\n")
json_case(["card-expiry", "--birth", "2008-03-01", "--applied", "2026-02-28",
           "--issued", "2026-04-10", "--json"],
          {"expires": "2036-03-01", "nth_birthday": 10, "age_at_application": 18,
           "adult_age": 18, "limited_by": "birthday"})
json_case(["card-expiry", "--birth", "2000-05-20", "--applied", "2026-03-01",
           "--issued", "2026-04-01", "--stay-expires", "2028-10-31", "--json"],
          {"expires": "2028-10-31", "limited_by": "stay"})
case(["card-expiry", "--birth", "2000-05-20", "--applied", "2026-05-01", "--issued",
      "2026-04-01"], 2, err="before the application day")
case(["card-expiry", "--birth", "2000-05-20", "--applied", "2026-03-01", "--issued",
      "2026-04-01", "--stay-expires", "2026-03-31"], 1, err="period of stay ended")
case(["card-expiry", "--birth", "2000-05-20", "--issued", "2026-04-01"], 2,
     err="--applied is required")

# ---- renewal-window (seeds 002, 004; DOMAIN §2) ----
for exp, want in [("2026-05-20", "2026-02-21 2026-05-20"),
                  ("2026-03-24", "2025-12-25 2026-03-24"),
                  ("2026-04-01", "2026-01-02 2026-04-01"),
                  ("2026-05-30", "2026-03-01 2026-05-30"),
                  ("2026-04-10", "2026-01-11 2026-04-10"),
                  ("2026-05-31", "2026-03-01 2026-05-31"),
                  ("2024-05-31", "2024-03-01 2024-05-31"),
                  ("2026-03-31", "2026-01-01 2026-03-31"),
                  ("2026-11-30", "2026-08-31 2026-11-30")]:
    case(["renewal-window", "--expires", exp], 0, out=want + "\n")
json_case(["renewal-window", "--expires", "2026-05-20", "--json"],
          {"first": "2026-02-21", "last": "2026-05-20", "state": None})
case(["renewal-window", "--expires", "2026-05-20", "--on", "2026-02-20"], 0,
     out="2026-02-21 2026-05-20 not_yet\n")
case(["renewal-window", "--expires", "2026-05-20", "--on", "2026-05-21"], 0,
     out="2026-02-21 2026-05-20 expired\n")
json_case(["renewal-window", "--expires", "2026-05-20", "--on", "2026-02-21", "--json"],
          {"state": "open"})
case(["renewal-window", "--expires", "1868-02-01"], 2, err="before 1868")
case(["renewal-window"], 2, err="--expires is required")

# ---- age, wareki ----
case(["age", "--birth", "2011-04-01", "--on", "2026-03-31"], 0, out="15\n")
case(["age", "--birth", "2011-04-01", "--on", "2026-03-30"], 0, out="14\n")
case(["age", "--birth", "2008-06-10", "--on", "2026-06-09"], 0, out="18\n")
case(["age", "--birth", "2008-06-10", "--on", "2026-06-08"], 0, out="17\n")
json_case(["age", "--birth", "2011-04-01", "--on", "2026-03-31", "--json"],
          {"age": 15, "ordinary_age": 14})
case(["age", "--birth", "2011-04-01", "--on", "2010-03-31"], 2, err="before --birth")
for d, want in [("2025-06-15", "令和7年6月15日"), ("2019-05-01", "令和元年5月1日"),
                ("2019-04-30", "平成31年4月30日"), ("1989-01-07", "昭和64年1月7日"),
                ("1873-01-01", "明治6年1月1日"), ("1872-12-31", "1872年12月31日")]:
    case(["wareki", d], 0, out=want + "\n")
json_case(["wareki", "2025-06-15", "--json"],
          {"date": "2025-06-15", "era": "令和", "year": 7, "text": "令和7年6月15日"})
json_case(["wareki", "1872-12-31", "--json"], {"era": None, "year": 1872})
case(["wareki", "2025-06-31"], 2, err="'2025-06-31': no such day")
case(["wareki", "2025/06/15"], 2, err="'2025/06/15': not a date (expected YYYY-MM-DD)")
case(["wareki"], 2, err="required")

# ---- pin-check: the PIN on stdin, never echoed ----
for kind, pin, rc, err in [("sign", "abc123\n", 0, None),
                           ("sign", "ABC123DEF456GHI7\n", 0, None),
                           ("sign", "ABC123\r\n", 0, None),
                           ("sign", "abc12\n", 1, "too short"),
                           ("sign", "ABC123DEF456GHI78\n", 1, "too long"),
                           ("sign", "abcdef\n", 1, "at least one digit"),
                           ("sign", "123456\n", 1, "at least one letter"),
                           ("sign", "abc-123\n", 1, "invalid character"),
                           ("sign", "", 1, "empty"),
                           ("sign", "A1" * 40 + "\n", 1, "too long"),
                           ("auth", "1234\n", 0, None),
                           ("auth", "1234", 0, None),
                           ("juki", "0000\n", 0, None),
                           ("text", "12345\n", 1, "too long"),
                           ("text", "123\n", 1, "too short"),
                           ("auth", "12a4\n", 1, "invalid character"),
                           ("auth", "1234\nsecond line\n", 0, None)]:
    r = case(["pin-check", "--kind", kind], rc, out="", err=err, stdin=pin)
    secret = pin.strip()
    if len(secret) >= 4 and (secret in r.stdout.decode() or secret in r.stderr.decode()):
        failures.append(f"pin-check echoed the PIN {secret!r}")
r = run(["pin-check", "--kind", "sign", "--json"], "abcdef\n")
doc = json.loads(r.stdout.decode() or "null")
if r.returncode != 1 or not doc or doc.get("valid") is not False or \
        doc.get("reason") != "no_digit" or "数字が含まれていません" not in doc.get("message_ja", ""):
    failures.append(f"pin-check --json invalid: {r.returncode} {doc}")
r = run(["pin-check", "--kind", "auth", "--json"], "1234\n")
doc = json.loads(r.stdout.decode() or "null")
if r.returncode != 0 or doc.get("valid") is not True or doc.get("reason") is not None:
    failures.append(f"pin-check --json valid: {r.returncode} {doc}")
case(["pin-check", "--kind", "bank"], 2, err="not sign, auth, juki or text")
r = case(["pin-check", "--kind", "5678"], 2, err="not shown")
if b"5678" in r.stderr:
    failures.append("pin-check echoed its --kind value")
# A PIN typed on the command line is refused without being echoed.
for stray in (["4321"], ["-4321"], ["--4321"]):
    r = case(["pin-check", "--kind", "auth"] + stray, 2, err="not shown")
    if b"4321" in r.stderr or b"4321" in r.stdout:
        failures.append(f"pin-check echoed a stray argument {stray}")
r = run(["pin-check", "--kind", "sign", "--json"], "abc\n")
if r.returncode != 1 or b"too short" not in r.stderr or \
        json.loads(r.stdout.decode()).get("reason") != "too_short":
    failures.append(f"pin-check --json refusal: {r.returncode} {r.stdout} {r.stderr}")

# ---- office (DOMAIN §7; seeds 000-004) ----
case(["office", "--config", YOKO, "--date", "2026-09-22"], 0, out="closed holiday 休日\n")
case(["office", "--config", YOKO, "--date", "2026-03-14"], 0, out="open 09:00-12:00\n")
case(["office", "--config", YOKO, "--date", "2026-03-07"], 0, out="closed weekend\n")
case(["office", "--config", YOKO, "--date", "2026-12-31"], 0, out="closed year-end\n")
case(["office", "--config", SHIMO, "--date", "2026-03-05"], 0, out="open 08:30-19:00\n")
case(["office", "--config", TOSHIMA, "--date", "2026-03-21"], 0,
     out="closed maintenance\n")
json_case(["office", "--config", YOKO, "--date", "2026-03-02", "--json"],
          {"date": "2026-03-02", "open": True, "hours": [["08:45", "17:00"]],
           "reason": None, "detail": None, "next_open": "2026-03-02"})
json_case(["office", "--config", YOKO, "--date", "2026-09-22", "--json"],
          {"open": False, "hours": [], "reason": "holiday", "detail": "休日",
           "next_open": "2026-09-24"})
case(["office", "--config", "/nonexistent.ini", "--date", "2026-03-02"], 2,
     err="No such file")
case(["office", "--config", os.path.join(SRC, "CMakeLists.txt"), "--date", "2026-03-02"], 2,
     err="line ")
case(["office", "--config", YOKO, "--date", "2026-13-01"], 2, err="no such day")
case(["office", "--config", YOKO, "--date", "2100-01-04"], 2, err="2099")
case(["office", "--date", "2026-03-02"], 2, err="--config is required")
case(["office", "--config=", "--date", "2026-03-02"], 2, err="--config: empty value")
case(["office", "--config", "--date", "2026-03-02"], 2, err="--config needs a value")

# ---- reservable (DOMAIN §7 worked example, seed 004) ----
case(["reservable", "--config", YOKO, "--expires", "2026-05-20", "--now",
      "2026-02-21T10:00:00+09:00"], 0, out="2026-02-24 2026-04-02\n")
case(["reservable", "--config", YOKO, "--expires", "2026-05-20"], 0,
     out="2026-02-24 2026-04-02\n", env={"JPKI_NOW": "2026-02-21T10:00:00+09:00"})
case(["reservable", "--config", YOKO, "--expires", "2026-05-20", "--now",
      "2026-02-20T10:00:00+09:00"], 1, out="", err="booking opens on 2026-02-21")
json_case(["reservable", "--config", YOKO, "--expires", "2026-05-20", "--now",
           "2026-02-21T10:00:00+09:00", "--json"],
          {"bookable": True, "first": "2026-02-24", "last": "2026-04-02",
           "window_first": "2026-02-21", "window_last": "2026-05-20"})
json_case(["reservable", "--config", YOKO, "--expires", "2026-05-20", "--now",
           "2026-02-20T10:00:00+09:00", "--json"],
          {"bookable": False, "opens_on": "2026-02-21", "first": None}, rc=1)
case(["reservable", "--config", YOKO, "--expires", "2026-05-20", "--now",
      "2026-02-21 10:00"], 2, err="--now")
case(["reservable", "--config", YOKO, "--expires", "2026-05-20", "--now",
      "2026-02-21T10:00:00"], 2, err="--now")
case(["reservable", "--config", YOKO, "--expires", "2026-05-20"], 2, err="JPKI_NOW",
     env={"JPKI_NOW": "yesterday"})
case(["reservable", "--config", YOKO, "--expires", "2026-05-20", "--now",
      "2026-02-30T10:00:00+09:00"], 2, err="'2026-02-30': no such day")
case(["reservable", "--config", YOKO, "--expires", "2026-05-20", "--now",
      "2199-12-31T23:00:00Z"], 2, err="now (2200-01-01 JST) is out of range")

# ---- bring ----
r = case(["bring", "--procedure", "renew", "--applicant", "self"], 0)
lines = r.stdout.decode().splitlines()
if not lines or lines[0] != "マイナンバーカード" or \
        not any("［区分S・A・B・C］" in l for l in lines) or \
        not all(l.startswith("※") for l in lines[4:]):
    failures.append(f"bring renew self: {lines}")
r = case(["bring", "--procedure", "renew", "--applicant", "proxy-without-form"], 0)
lines = r.stdout.decode().splitlines()
items = [l for l in lines if not l.startswith("※")]
if not all(l.startswith(("1回目: ", "2回目: ")) for l in items) or \
        not any(l.startswith("※本庁") for l in lines):
    failures.append(f"bring renew proxy-without-form: {lines}")
json_case(["bring", "--procedure", "renew", "--applicant", "proxy-with-form", "--json"],
          {"procedure": "renew", "applicant": "proxy-with-form", "visits": 1,
           "main_office_only": True, "fee_yen": 0})
case(["bring", "--procedure", "revoke", "--applicant", "proxy-with-form"], 1,
     err="in person")
case(["bring", "--procedure", "renewal", "--applicant", "self"], 2, err="--procedure")
case(["bring", "--procedure", "renew", "--applicant", "friend"], 2, err="--applicant")

# ---- staff: accounts in a fresh store, the password on stdin ----
with tempfile.TemporaryDirectory(prefix="jpki-cli-staff-") as tmp:
    db = os.path.join(tmp, "s.db")
    open(db, "wb").close()  # an empty file is an empty SQLite database
    st = {"JPKI_STORE": db, "JPKI_NOW": "2026-02-21T10:00:00+09:00"}
    pw = "correct horse battery\n"
    case(["staff", "add", "--user", "suzuki", "--role", "supervisor"], 0,
         out="added user suzuki (supervisor)\n", stdin=pw, env=st)
    case(["staff", "add", "--user", "sato", "--role", "counter"], 0, stdin=pw, env=st)
    case(["staff", "add", "--user", "sato", "--role", "admin"], 1,
         err="user sato exists", stdin=pw, env=st)
    case(["staff", "add", "--user", "Kato", "--role", "admin"], 2, err="user name",
         stdin=pw, env=st)
    case(["staff", "add", "--user", "kato", "--role", "root"], 2, err="--role",
         stdin=pw, env=st)
    case(["staff", "add", "--user", "kato", "--role", "admin"], 2, err="shorter",
         stdin="short\n", env=st)
    r = case(["staff", "add", "--user", "kato", "--role", "admin"], 2,
             err="longer than 128", stdin="x" * 200 + "\n", env=st)
    if b"xxxx" in r.stderr:
        failures.append("staff add: the password is echoed")
    case(["staff", "disable", "--user", "sato"], 0, out="disabled user sato\n", env=st)
    case(["staff", "disable", "--user", "sato"], 0,
         out="user sato was already disabled\n", env=st)
    case(["staff", "disable", "--user", "nobody"], 1, err="no user nobody", env=st)
    case(["staff", "list"], 0, out="sato\tcounter\tdisabled\t-\n"
         "suzuki\tsupervisor\tactive\t-\n", env=st)
    json_case(["staff", "list", "--json"], {"staff": [
        {"user": "sato", "role": "counter", "disabled": True,
         "created_at": "2026-02-21T10:00:00+09:00", "last_login": None},
        {"user": "suzuki", "role": "supervisor", "disabled": False,
         "created_at": "2026-02-21T10:00:00+09:00", "last_login": None}]}, env=st)
    case(["audit", "verify"], 0, out="audit log intact: 3 rows\n", env=st)
    for name in os.listdir(tmp):  # s.db, s.db-wal, s.db-shm
        with open(os.path.join(tmp, name), "rb") as f:
            if b"horse" in f.read():
                failures.append(f"staff: the password is in {name}")

if failures:
    print("\n".join(failures))
    print(f"{len(failures)} CLI case(s) failed")
    sys.exit(1)
print("all CLI cases passed")
