#!/usr/bin/env python3
"""Python noko (the real package, `pip install noko==0.3.1`) on both sides of interop.

    python_noko.py write RUNS_DIR RUN_NAME EXPECTED.json [KILL_AFTER]
        noko.init() a run and log rows with noko.log_row into several tables: NaN and
        infinities, strings (commas, quotes), None, booleans, nested dicts, numpy arrays,
        a key that appears mid-run. Writes what was logged to EXPECTED.json (table -> rows of flat keys;
        NaN and infinities as {"$float": "NaN"}, "Infinity", "-Infinity"). With KILL_AFTER, the process
        SIGKILLs itself after that many rows of `train`, mid-run.
    python_noko.py load FILE OUT.json
        noko.load_log_file(FILE) (the journal or a CSV file), dumped to OUT.json with the
        same spelling of non-finite floats.

Exits 1 with a message when something fails.
"""
import json
import math
import os
import signal
import sys

import numpy as np  # imported before noko.init, which then summarizes arrays (noko.np)

import noko


def spelled(value):
    """Strict JSON: a non-finite float as {"$float": "NaN"} ("Infinity", "-Infinity"), kept
    apart from a string "NaN"."""
    if isinstance(value, float) and not math.isfinite(value):
        return {"$float": "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")}
    if isinstance(value, dict):
        return {k: spelled(v) for k, v in value.items()}
    if isinstance(value, list):
        return [spelled(v) for v in value]
    return value


def flat(row, prefix=""):
    """The keys and values Python noko logs: nested dicts under "opt/lr", a numpy array as
    "weights.mean", ".min", ".max", ".std"."""
    out = {}
    for key, value in row.items():
        name = f"{prefix}/{key}" if prefix else key
        if isinstance(value, dict):
            out.update(flat(value, name))
        elif isinstance(value, np.ndarray):
            out[f"{name}.mean"] = float(value.astype("float").mean())
            out[f"{name}.min"] = value.min().item()
            out[f"{name}.max"] = value.max().item()
            out[f"{name}.std"] = float(value.astype("float").std())
        else:
            out[name] = value
    return out


def train_row(i):
    row = {
        "loss": math.nan if i == 4 else 1.0 / (i + 1),
        "epoch": i // 4,
        "phase": "warm, up" if i < 3 else 'main "run"',
        "done": i % 2 == 0,
        "opt": {"lr": 0.1 * 0.5 ** i, "betas": {"b1": 0.9}},
        "weights": np.array([i, i + 1.5, -2.0 * i]),
        "counts": np.array([i, 3 * i + 1], dtype=np.int64),
    }
    if i >= 6:
        row["grad_norm"] = math.inf if i == 9 else 10.0 - i
    return row


def eval_row(i):
    return {"accuracy": 0.5 + i / 10, "note": None if i == 1 else f"eval {i}", "margin": -math.inf if i == 2 else -i * 0.25}


def write(runs_dir, run_name, expected_path, kill_after=None):
    noko.init(runs_dir=runs_dir, run_name=run_name, setup_py_logging=False)
    expected = {"train": [], "eval": []}

    def save():
        with open(expected_path, "w", encoding="utf-8") as f:
            json.dump({"tables": spelled(expected)}, f, allow_nan=False)

    for i in range(12):
        row = train_row(i)
        noko.log_row("train", row, level=noko.INFO)
        expected["train"].append(flat(row))
        if kill_after is not None and i + 1 == kill_after:
            save()
            os.kill(os.getpid(), signal.SIGKILL)
        if i % 3 == 2:
            row = eval_row(i // 3)
            noko.log_row("eval", row, level=noko.RESULTS)
            expected["eval"].append(flat(row))
    noko.get_logger().close()
    save()


def load(path, out_path):
    loaded = noko.load_log_file(path)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(spelled(loaded), f, allow_nan=False)


def main(argv):
    if len(argv) >= 5 and argv[1] == "write":
        write(argv[2], argv[3], argv[4], int(argv[5]) if len(argv) > 5 else None)
    elif len(argv) == 4 and argv[1] == "load":
        load(argv[2], argv[3])
    else:
        print(__doc__)
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv)
