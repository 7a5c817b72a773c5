#!/usr/bin/env python3
"""W1 rows through Python noko, for `noko-bench rows --python` (which runs this interleaved
with its own repetitions and prints the ratio).

    python_w1.py RUNS_DIR ROWS {notb|tb}

Logs ROWS rows of the W1 workload (12 floats from a seeded random.random(), `epoch`,
`batch`, `samples`, a short `phase` string) to table `train` with `noko.log_row`, through
`noko.init()`'s default outputs, and prints one JSON line: {"seconds": …, "per_row_us": …},
the wall time of the loop (building each row dict included, as in the baselines) plus
`close()`. With `notb`, TensorBoard is made unimportable first (torch.utils.tensorboard,
tensorboardX and tensorflow set to None in sys.modules), which is what noko sees on a
machine without a TensorBoard writer; with `tb`, noko uses tensorboardX.
"""
import json
import random
import sys
import time


def main():
    runs_dir, rows, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if mode == "notb":
        for name in ("torch.utils.tensorboard", "tensorboardX", "tensorflow"):
            sys.modules[name] = None
    elif mode != "tb":
        sys.exit(f"python_w1.py: mode must be notb or tb, got {mode!r}")
    import noko

    noko.init(runs_dir=runs_dir, run_name="w1", setup_py_logging=False)
    rng = random.Random(16)
    keys = [f"metric_{k}" for k in range(12)]
    start = time.perf_counter()
    for i in range(rows):
        row = {"epoch": i // 1000, "batch": i % 1000, "samples": i * 32, "phase": "eval" if i % 10 == 0 else "train"}
        for key in keys:
            row[key] = rng.random()
        noko.log_row("train", row)
    noko.get_logger().close()
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "per_row_us": seconds / rows * 1e6}))


if __name__ == "__main__":
    main()
