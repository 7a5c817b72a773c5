#!/usr/bin/env python3
"""Prints, as JSON, the hyperparameters of a run directory's TensorBoard events file as the
real tensorboard package reads them: {"session_start": {name: value}, "session_end": true, "experiment": [names]}, each
key only when the file has that record.

    read_hparams.py RUN_DIR
"""
import glob
import json
import os
import sys

from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
from tensorboard.plugins.hparams import metadata, plugin_data_pb2

run_dir = sys.argv[1]
files = glob.glob(os.path.join(run_dir, "events.out.tfevents.*"))
if len(files) != 1:
    print(f"expected one events file in {run_dir}, found {files}")
    sys.exit(1)
found = {}
for event in EventFileLoader(files[0]).Load():
    if not event.HasField("summary"):
        continue
    for value in event.summary.value:
        if value.metadata.plugin_data.plugin_name != metadata.PLUGIN_NAME:
            continue
        data = plugin_data_pb2.HParamsPluginData.FromString(value.metadata.plugin_data.content)
        kind = data.WhichOneof("data")
        if kind == "session_start_info":
            hparams = {}
            for name, v in data.session_start_info.hparams.items():
                field = v.WhichOneof("kind")
                hparams[name] = getattr(v, field)
            found["session_start"] = hparams
        elif kind == "session_end_info":
            found["session_end"] = True
        elif kind == "experiment":
            found["experiment"] = sorted(h.name for h in data.experiment.hparam_infos)
print(json.dumps(found))
