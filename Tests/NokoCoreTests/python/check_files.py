"""Reads a noko run directory with Python's json and csv modules and pandas, and compares
the values with the expectations the Swift test wrote (expected.json: table -> list of rows).

Usage: check_files.py RUN_DIR EXPECTED_JSON
Prints OK or raises. Non-finite expectations are the strings "NaN", "Infinity", "-Infinity".
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


# The journal: strict JSON (no bare NaN: parse_constant raises if one appears).
def reject(token):
    raise ValueError("non-strict JSON constant " + token)


journal = {}
with open(os.path.join(run_dir, "noko.ndjson"), encoding="utf-8") as f:
    for line in f:
        row = json.loads(line, parse_constant=reject)
        journal.setdefault(row["$table"], []).append(row)

for table, rows in expected["tables"].items():
    got = journal[table]
    assert len(got) == len(rows), (table, len(got), len(rows))
    for i, (g, e) in enumerate(zip(got, rows)):
        for key, value in e.items():
            assert same(special(g[key]), special(value)), (table, i, key, g[key], value)
        assert g["$step"] == i or "steps" in expected, (table, i, g["$step"])

    # The CSV file: the csv module, then pandas without options.
    path = os.path.join(run_dir, expected["files"][table] + ".csv")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        csv_rows = list(reader)
    assert len(csv_rows) == len(rows), (path, len(csv_rows), len(rows))
    header = reader.fieldnames
    assert header == sorted(header), header
    for i, (g, e) in enumerate(zip(csv_rows, rows)):
        for key, value in e.items():
            value = special(value)
            cell = g[key]
            if value is None:
                assert cell == "", (key, cell)
            elif isinstance(value, bool):
                assert cell == str(value), (key, cell, value)
            elif isinstance(value, (int, float)):
                assert same(float(cell), float(value)), (key, cell, value)
            else:
                assert cell == value, (key, cell, value)
    frame = pd.read_csv(path)
    assert len(frame) == len(rows), (path, len(frame))
    for i, e in enumerate(rows):
        for key, value in e.items():
            value = special(value)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                cell = frame[key][i]
                assert same(float(cell), float(value)), ("pandas", key, cell, value)

print("OK")
