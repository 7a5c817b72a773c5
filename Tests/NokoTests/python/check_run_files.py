#!/usr/bin/env python3
"""Reads every file of noko run directories with the real readers and reports what they hold.

Usage: check_run_files.py RUN_DIR [RUN_DIR ...]
       check_run_files.py --probe        (exit 0 if pandas, pyarrow and tensorboard import)

Prints one JSON object: {RUN_DIR: report}. A report lists, per file, what a reader found:
  journal      {"rows": {table: n}, "steps": {table: [step, ...]}}   (json, strict: no NaN)
  csv          {"<file>.csv": {"rows": n, "steps": [...]}}          (csv module, and pandas)
  summary      {table: rows} from summary.json, or null without one   (json)
  metadata     metadata.json, or null                                 (json)
  parquet      {"<file>.parquet": {"rows": n, "steps": [...]}}      (pyarrow.parquet)
  tensorboard  {"<file>": {"records": n, "steps": {tag: [...]}}}    (every TFRecord's
               length and CRC checked, then tensorboard's EventAccumulator)
  pprint       {"blocks": n} from noko_pprint.log
  errors       every file a reader could not read whole: a torn line in the middle or at the
               end, a CSV record with the wrong number of cells, a Parquet or event file that
               does not parse. Empty when every file is whole.
Used by Tests/NokoTests/DiskFailureTests.swift (one run of Python for many directories).
"""
import csv
import io
import json
import os
import struct
import sys


def probe():
    try:
        import pandas  # noqa: F401
        import pyarrow.parquet  # noqa: F401
        from tensorboard.backend.event_processing import event_accumulator  # noqa: F401
        from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c  # noqa: F401
    except Exception as error:  # any import failure means "cannot check here"
        print(f"cannot import the readers: {error}", file=sys.stderr)
        return 1
    return 0


def reject(token):
    raise ValueError("non-strict JSON constant " + token)


def read_journal(path, errors):
    rows, steps = {}, {}
    with open(path, "rb") as f:
        data = f.read()
    if data and not data.endswith(b"\n"):
        torn = len(data) - data.rfind(b"\n") - 1
        errors.append(f"{path}: ends in a torn line ({torn} bytes)")
    for number, line in enumerate(data.split(b"\n")[:-1] if data else [], start=1):
        try:
            row = json.loads(line.decode("utf-8"), parse_constant=reject)
            table, step = row["$table"], row["$step"]
        except Exception as error:
            errors.append(f"{path}:{number}: {error}: {line[:80]!r}")
            continue
        rows[table] = rows.get(table, 0) + 1
        steps.setdefault(table, []).append(step)
    return {"rows": rows, "steps": steps}


def read_csv(path, errors):
    import pandas as pd

    with open(path, "rb") as f:
        data = f.read()
    if data and not data.endswith(b"\n"):
        errors.append(f"{path}: ends in a torn record")
    records = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    if not records:
        errors.append(f"{path}: empty (no header)")
        return {"rows": 0, "steps": []}
    header, body = records[0], records[1:]
    for number, record in enumerate(body, start=2):
        if len(record) != len(header):
            errors.append(f"{path}: record {number} has {len(record)} cells, the header {len(header)}")
    try:
        frame = pd.read_csv(path)
        if len(frame) != len(body):
            errors.append(f"{path}: pandas reads {len(frame)} rows, csv {len(body)}")
    except Exception as error:
        errors.append(f"{path}: pandas: {error}")
    column = header.index("$step") if "$step" in header else None
    steps = [int(record[column]) for record in body if column is not None and len(record) == len(header)]
    return {"rows": len(body), "steps": steps}


def read_parquet(path, errors):
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as error:
        errors.append(f"{path}: pyarrow: {error}")
        return {"rows": 0, "steps": []}
    steps = table.column("$step").to_pylist() if "$step" in table.column_names else []
    return {"rows": table.num_rows, "steps": steps}


def read_events(path, errors):
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

    with open(path, "rb") as f:
        data = f.read()
    # The framing first: EventAccumulator stops quietly at a bad record, a test must not.
    offset, records = 0, 0
    while offset < len(data):
        if len(data) - offset < 12:
            errors.append(f"{path}: torn record header at byte {offset}")
            break
        (length,) = struct.unpack("<Q", data[offset : offset + 8])
        (length_crc,) = struct.unpack("<I", data[offset + 8 : offset + 12])
        if masked_crc32c(data[offset : offset + 8]) != length_crc:
            errors.append(f"{path}: bad length CRC at byte {offset}")
            break
        end = offset + 12 + length + 4
        if end > len(data):
            errors.append(f"{path}: torn record at byte {offset}")
            break
        (data_crc,) = struct.unpack("<I", data[end - 4 : end])
        if masked_crc32c(data[offset + 12 : end - 4]) != data_crc:
            errors.append(f"{path}: bad data CRC at byte {offset}")
            break
        offset, records = end, records + 1
    accumulator = event_accumulator.EventAccumulator(path, size_guidance={event_accumulator.SCALARS: 0})
    accumulator.Reload()
    steps = {tag: [event.step for event in accumulator.Scalars(tag)] for tag in accumulator.Tags()["scalars"]}
    return {"records": records, "steps": steps}


def read_run(directory):
    errors = []
    report = {"csv": {}, "parquet": {}, "tensorboard": {}, "summary": None, "metadata": None, "pprint": None}
    journal = os.path.join(directory, "noko.ndjson")
    report["journal"] = read_journal(journal, errors) if os.path.exists(journal) else {"rows": {}, "steps": {}}
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if name.startswith(".") or not os.path.isfile(path):
            continue
        if name.endswith(".csv"):
            report["csv"][name] = read_csv(path, errors)
        elif name.endswith(".parquet"):
            report["parquet"][name] = read_parquet(path, errors)
        elif name.startswith("events.out.tfevents."):
            report["tensorboard"][name] = read_events(path, errors)
        elif name in ("summary.json", "metadata.json"):
            try:
                with open(path) as f:
                    value = json.load(f, parse_constant=reject)
            except Exception as error:
                errors.append(f"{path}: {error}")
                continue
            if name == "summary.json":
                report["summary"] = {table: value["tables"][table]["rows"] for table in value["tables"]}
            else:
                report["metadata"] = value
        elif name == "noko_pprint.log":
            with open(path, "rb") as f:
                text = f.read()
            if text and not text.endswith(b"\n"):
                errors.append(f"{path}: ends in a torn block")
            report["pprint"] = {"blocks": sum(1 for line in text.split(b"\n") if line and not line.startswith(b" "))}
    report["errors"] = errors
    return report


if __name__ == "__main__":
    if sys.argv[1:] == ["--probe"]:
        sys.exit(probe())
    print(json.dumps({directory: read_run(directory) for directory in sys.argv[1:]}))
