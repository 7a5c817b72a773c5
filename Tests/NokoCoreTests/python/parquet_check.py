#!/usr/bin/env python3
"""Checks Parquet files written by noko's Swift writer with the real readers, and writes
files with pyarrow for noko's reader. Run by ParquetInteropTests via `python3`.

Commands (each prints one JSON document on success, or a message and exits 1):
  expect FILE EXPECTED.json   read FILE with pyarrow.parquet.read_table and compare every
                              value with EXPECTED ({"columns": [{"name", "type", "values"}]};
                              doubles may be "NaN"/"Infinity"/"-Infinity")
  duckdb FILE COLUMN          SELECT count(*), sum(COLUMN) FROM FILE  -> [count, sum]
  duckdb-schema FILE          column names and types as DuckDB sees them
  write FILE VARIANT OUT.json write a table with pyarrow (VARIANT says how) and dump its
                              values to OUT.json in the EXPECTED format
  snappy-compress IN OUT      pyarrow's Snappy codec, for byte-level interop
  snappy-decompress IN OUT SIZE
"""
import json
import math
import sys

import pyarrow as pa
import pyarrow.parquet as pq

NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
TYPE_OF_ARROW = {
    pa.int64(): "int64", pa.int32(): "int64", pa.float64(): "double", pa.float32(): "double",
    pa.bool_(): "boolean", pa.string(): "string", pa.large_string(): "string",
}


def fail(message):
    print(message)
    sys.exit(1)


def same(kind, expected, actual):
    if expected is None or actual is None:
        return expected is None and actual is None
    if kind == "double":
        if isinstance(expected, str):
            expected = NON_FINITE[expected]
        if math.isnan(expected):
            return isinstance(actual, float) and math.isnan(actual)
        return isinstance(actual, float) and actual == expected
    if kind == "int64":
        return isinstance(actual, int) and not isinstance(actual, bool) and actual == expected
    if kind == "boolean":
        return isinstance(actual, bool) and actual == expected
    return isinstance(actual, str) and actual == expected


def expect(path, expected_path):
    with open(expected_path, encoding="utf-8") as f:
        expected = json.load(f)
    try:
        table = pq.read_table(path)
    except Exception as error:  # pyarrow.lib.ArrowInvalid and its kin
        fail(f"pyarrow cannot read {path}: {type(error).__name__}: {error}")
    names = [c["name"] for c in expected["columns"]]
    if table.column_names != names:
        fail(f"columns differ: pyarrow sees {table.column_names}, expected {names}")
    for column in expected["columns"]:
        name, kind, values = column["name"], column["type"], column["values"]
        arrow_type = table.schema.field(name).type
        if TYPE_OF_ARROW.get(arrow_type) != kind:
            fail(f"column {name!r}: pyarrow type {arrow_type}, expected {kind}")
        actual = table.column(name).to_pylist()
        if len(actual) != len(values):
            fail(f"column {name!r}: {len(actual)} rows, expected {len(values)}")
        for i, (e, a) in enumerate(zip(values, actual)):
            if not same(kind, e, a):
                fail(f"column {name!r} row {i}: pyarrow reads {a!r}, expected {e!r}")
    print(json.dumps({"rows": table.num_rows, "row_groups": pq.ParquetFile(path).num_row_groups}))


def run_duckdb(path, column):
    import duckdb
    quoted = '"' + column.replace('"', '""') + '"'
    escaped = path.replace("'", "''")
    count, total = duckdb.connect().execute(f"SELECT count(*), sum({quoted}) FROM '{escaped}'").fetchone()
    print(json.dumps([count, total]))


def duckdb_schema(path):
    import duckdb
    escaped = path.replace("'", "''")
    rows = duckdb.connect().execute(f"DESCRIBE SELECT * FROM '{escaped}'").fetchall()
    print(json.dumps([[name, kind] for name, kind, *_ in rows]))


def dump(table):
    columns = []
    for name in table.column_names:
        kind = TYPE_OF_ARROW[table.schema.field(name).type]
        values = []
        for v in table.column(name).to_pylist():
            if isinstance(v, float) and not math.isfinite(v):
                v = "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
            values.append(v)
        columns.append({"name": name, "type": kind, "values": values})
    return {"columns": columns}


def sample_table(rows):
    ints, doubles, strings, flags, small, floats = [], [], [], [], [], []
    specials = [math.nan, math.inf, -math.inf, -0.0, 5e-324, 1.7976931348623157e308]
    words = ["alpha", "β-bêta", "", "日本語", "emoji 🎉", "tab\tand\nnewline", "alpha"]
    for i in range(rows):
        ints.append(None if i % 7 == 3 else (i * 7919) % 1000 - 500 + (2**62 if i == 5 else 0))
        doubles.append(None if i % 5 == 4 else (specials[i % len(specials)] if i % 11 == 0 else i * 0.37 - 12.5))
        strings.append(None if i % 6 == 5 else words[i % len(words)])
        flags.append(None if i % 4 == 2 else i % 3 == 0)
        small.append(None if i % 9 == 8 else i % 1000)
        floats.append(None if i % 8 == 7 else i * 0.5)
    return pa.table({
        "i": pa.array(ints, pa.int64()),
        "d": pa.array(doubles, pa.float64()),
        "s": pa.array(strings, pa.string()),
        "b": pa.array(flags, pa.bool_()),
        "i32": pa.array(small, pa.int32()),
        "f32": pa.array(floats, pa.float32()),
    })


def write(path, variant, out_path):
    rows = 1000
    options = {}
    table = sample_table(rows)
    if variant == "plain":
        options = dict(compression="none", use_dictionary=False)
    elif variant == "snappy-dictionary":
        options = dict(compression="snappy", use_dictionary=True)
    elif variant == "v2":
        options = dict(compression="snappy", use_dictionary=True, data_page_version="2.0")
    elif variant == "v2-plain":
        options = dict(compression="none", use_dictionary=False, data_page_version="2.0")
    elif variant == "many-pages":
        table = sample_table(20000)
        options = dict(compression="snappy", use_dictionary=True, data_page_size=1024, row_group_size=3000)
    elif variant == "required":
        table = pa.table({"n": pa.array(range(rows), pa.int64()), "x": pa.array([i / 4 for i in range(rows)])},
                         schema=pa.schema([pa.field("n", pa.int64(), nullable=False),
                                           pa.field("x", pa.float64(), nullable=False)]))
        options = dict(compression="none", use_dictionary=False)
    elif variant == "empty":
        table = sample_table(0)
    elif variant == "zstd":
        options = dict(compression="zstd")
    elif variant == "nested":
        table = pa.table({"l": pa.array([[1, 2], [3]])})
    else:
        fail(f"unknown variant {variant}")
    pq.write_table(table, path, **options)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(dump(table) if variant != "nested" else {"columns": []}, f, ensure_ascii=False)
    print(json.dumps({"rows": table.num_rows}))


def snappy(command, source, target, size=None):
    with open(source, "rb") as f:
        data = f.read()
    if command == "snappy-compress":
        result = pa.compress(data, codec="snappy", asbytes=True)
    else:
        result = pa.decompress(data, decompressed_size=int(size), codec="snappy", asbytes=True)
    with open(target, "wb") as f:
        f.write(result)
    print(json.dumps({"bytes": len(result)}))


def main(argv):
    if len(argv) < 2:
        fail(__doc__)
    command = argv[1]
    if command == "expect":
        expect(argv[2], argv[3])
    elif command == "duckdb":
        run_duckdb(argv[2], argv[3])
    elif command == "duckdb-schema":
        duckdb_schema(argv[2])
    elif command == "write":
        write(argv[2], argv[3], argv[4])
    elif command in ("snappy-compress", "snappy-decompress"):
        snappy(command, *argv[2:])
    else:
        fail(f"unknown command {command}\n{__doc__}")


if __name__ == "__main__":
    main(sys.argv)
