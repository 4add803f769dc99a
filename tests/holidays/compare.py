#!/usr/bin/env python3
"""Compare `jpki holidays YEAR` with independent data (issue: every year
1955-2027 must match).

- japanese-public-holidays: the Cabinet Office list (syukujitsu.csv) from
  1955; dates and names must match exactly for every year it covers.
- @holiday-jp/holiday_jp: a separately maintained list, 1970-2050; it names
  a 振替休日 "<holiday> 振替休日" where the Cabinet Office says "休日", the
  only normalisation applied. Dates and names must match for every year.

Together they cover 1955-2050; the test fails if they cover less than
1955-2027.
"""
import json
import os
import subprocess
import sys

jpki, npm = sys.argv[1], sys.argv[2]
mods = os.path.join(npm, "node_modules")


def cabinet():
    path = os.path.join(mods, "japanese-public-holidays", "index.tsv")
    rows = {}
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        assert header == ["date", "name"], header
        for line in f:
            d, n = line.rstrip("\n").split("\t")
            rows[d] = n
    return rows


def holiday_jp():
    script = (
        "const h=require('@holiday-jp/holiday_jp').holidays;"
        "process.stdout.write(JSON.stringify(Object.keys(h).map(k=>[k,h[k].name])))"
    )
    out = subprocess.run(["node", "-e", script], cwd=npm, check=True,
                         capture_output=True, text=True).stdout
    rows = {}
    for d, n in json.loads(out):
        if n.endswith(" 振替休日"):
            n = "休日"
        rows[d] = n
    return rows


def ours(year):
    r = subprocess.run([jpki, "holidays", str(year), "--json"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"jpki holidays {year} failed: {r.stderr.strip()}")
    return {h["date"]: h["name"] for h in json.loads(r.stdout)}


def compare(label, ref):
    years = sorted({int(d[:4]) for d in ref})
    # A source's last year may be partial only if it is the current data
    # edge; compare whole years only.
    bad = 0
    for y in years:
        want = {d: n for d, n in ref.items() if d.startswith(f"{y}-")}
        got = ours(y)
        if got != want:
            bad += 1
            for d in sorted(set(got) | set(want)):
                if got.get(d) != want.get(d):
                    print(f"{label} {d}: ours={got.get(d)!r} theirs={want.get(d)!r}")
    print(f"{label}: {len(years)} years {years[0]}-{years[-1]}, "
          f"{len(ref)} holidays, {bad} years differ")
    return set(years), bad


covered = set()
failures = 0
for label, ref in (("cabinet-office", cabinet()), ("holiday_jp", holiday_jp())):
    years, bad = compare(label, ref)
    covered |= years
    failures += bad

missing = [y for y in range(1955, 2028) if y not in covered]
if missing:
    print(f"independent data does not cover {missing}")
    failures += 1
sys.exit(1 if failures else 0)
