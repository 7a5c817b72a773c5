"""Reads a noko run directory with Python's json and csv modules and pandas, and compares
the values with the expectations the Swift test wrote (expected.json: table -> list of rows).

Usage: check_files.py RUN_DIR EXPECTED_JSON
Prints OK, or one FAIL line per wrong value and exits 1. Non-finite expectations are the strings "NaN", "Infinity", "-Infinity".
"""
import csv
import json
import math
import os
import sys

import pandas as pd

run_dir, expected_path = sys.argv[1], sys.argv[2]
with open(expected_path) as f:
    expected = json.load(f)


def special(v):
    if isinstance(v, str) and v in ("NaN", "Infinity", "-Infinity"):
        return float(v.replace("Infinity", "inf"))
    return v


def same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b and type(a) == type(b)
    return a == b


failures = []


def check(condition, *what):
    """Records a failure (never `assert`, which `python -O` removes)."""
    if not condition:
        failures.append(" ".join(repr(w) for w in what))
    return condition


# The journal: strict JSON (no bare NaN: parse_constant raises if one appears).
def reject(token):
    raise ValueError("non-strict JSON constant " + token)


journal = {}
with open(os.path.join(run_dir, "noko.ndjson"), encoding="utf-8") as f:
    for line in f:
        row = json.loads(line, parse_constant=reject)
        journal.setdefault(row["$table"], []).append(row)

for table, rows in expected["tables"].items():
    got = journal.get(table, [])
    check(len(got) == len(rows), "journal rows", table, len(got), len(rows))
    for i, (g, e) in enumerate(zip(got, rows)):
        for key, value in e.items():
            check(key in g and same(special(g[key]), special(value)), "journal", table, i, key, g.get(key), value)
        check(g["$step"] == i or "steps" in expected, "journal $step", table, i, g["$step"])

    # The CSV file: the csv module, then pandas without options.
    path = os.path.join(run_dir, expected["files"][table] + ".csv")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        csv_rows = list(reader)
    check(len(csv_rows) == len(rows), "csv rows", path, len(csv_rows), len(rows))
    header = reader.fieldnames
    check(header == sorted(header), "csv header not sorted", header)
    for i, (g, e) in enumerate(zip(csv_rows, rows)):
        for key, value in e.items():
            value = special(value)
            cell = g.get(key)
            if cell is None:
                check(False, "csv has no column", key)
            elif value is None:
                check(cell == "", "csv", i, key, cell, value)
            elif isinstance(value, bool):
                check(cell == str(value), "csv", i, key, cell, value)
            elif isinstance(value, (int, float)):
                try:
                    number = float(cell)
                except ValueError:
                    check(False, "csv cell is not a number", i, key, cell, value)
                else:
                    check(same(number, float(value)), "csv", i, key, cell, value)
            else:
                check(cell == value, "csv", i, key, cell, value)
    frame = pd.read_csv(path)
    check(len(frame) == len(rows), "pandas rows", path, len(frame), len(rows))
    for i, e in enumerate(rows[:len(frame)]):
        for key, value in e.items():
            value = special(value)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                if not check(key in frame, "pandas has no column", key):
                    continue
                cell = frame[key][i]
                try:
                    number = float(cell)
                except ValueError:
                    check(False, "pandas cell is not a number", i, key, cell, value)
                else:
                    check(same(number, float(value)), "pandas", i, key, cell, value)

if failures:
    for message in failures[:40]:
        print("FAIL " + message)
    sys.exit(1)
print("OK")
