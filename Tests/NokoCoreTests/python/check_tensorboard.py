#!/usr/bin/env python3
"""Reads a directory of noko's TensorBoard event files with TensorBoard itself and checks it.

Usage: check_tensorboard.py LOGDIR EXPECTED.json
       check_tensorboard.py --probe      (exit 0 if tensorboard can be imported)

EXPECTED.json (written by the Swift tests):
  {
    "scalars": {"<tag>": [[step, wall_time, value], ...]},   # every event, in order
    "hparams": null | {
        "session_start": {"hparams": {"<name>": {"number"|"bool"|"string": v}}, "start_time": t},
        "experiment": null | {"hparams": [["<name>", "<DATA_TYPE_...>"]], "metrics": ["<tag>"],
                              "time_created": t},
        "session_end": null | {"status": "<STATUS_...>", "end_time": t}
    },
    "dashboard": null | {"hparams": {...as session_start...}, "metrics": {"<tag>": last value}}
  }
Values that are not finite are the strings "NaN", "Infinity", "-Infinity". Scalars are
compared exactly: the Swift side sends each value already rounded to float32, as TensorBoard
stores it. "dashboard" asks TensorBoard's HParams plugin backend for the session groups of
LOGDIR's parent (users run `tensorboard --logdir runs/`, so each run directory is a run), as
the HParams dashboard does, and checks the run's hyperparameters and metrics.

Exit status 0 when everything matches; 1 with every mismatch on stderr.
"""

import json
import math
import os
import sys


def probe():
    try:
        from tensorboard.backend.event_processing import event_accumulator  # noqa: F401
        from tensorboard.plugins.hparams import plugin_data_pb2  # noqa: F401
    except Exception as error:  # any import failure means "cannot check here"
        print(f"tensorboard is not importable: {error}", file=sys.stderr)
        return 1
    return 0


def number(value):
    if isinstance(value, str):
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[value]
    return float(value)


def same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


class Checker:
    def __init__(self):
        self.errors = []

    def expect(self, condition, message):
        if not condition:
            self.errors.append(message)
        return condition

    def scalars(self, accumulator, expected):
        actual_tags = set(accumulator.Tags()["scalars"])
        self.expect(
            actual_tags == set(expected),
            f"scalar tags differ: missing {sorted(set(expected) - actual_tags)[:20]}, "
            f"unexpected {sorted(actual_tags - set(expected))[:20]}",
        )
        for tag, events in expected.items():
            if tag not in actual_tags:
                continue
            actual = accumulator.Scalars(tag)
            if not self.expect(
                len(actual) == len(events), f"{tag}: {len(actual)} events, expected {len(events)}"
            ):
                continue
            mismatches = 0
            for index, (event, (step, wall_time, value)) in enumerate(zip(actual, events)):
                ok = event.step == step and event.wall_time == number(wall_time) and same(event.value, number(value))
                if not ok:
                    mismatches += 1
                    if mismatches <= 5:
                        self.errors.append(
                            f"{tag}[{index}]: got step {event.step} wall_time {event.wall_time!r} value "
                            f"{event.value!r}, expected step {step} wall_time {number(wall_time)!r} value "
                            f"{number(value)!r}"
                        )
            self.expect(mismatches == 0, f"{tag}: {mismatches} mismatching events")

    def hparams_values(self, where, actual_map, expected_map):
        actual = {}
        for name, value in actual_map.items():
            kind = value.WhichOneof("kind")
            actual[name] = {
                "number_value": lambda v: {"number": v.number_value},
                "bool_value": lambda v: {"bool": v.bool_value},
                "string_value": lambda v: {"string": v.string_value},
            }.get(kind, lambda v: {"other": str(v)})(value)
        expected = {name: {k: (number(v) if k == "number" else v) for k, v in typed.items()}
                    for name, typed in expected_map.items()}
        self.expect(actual == expected, f"{where}: hparams {actual}, expected {expected}")

    def plugin_data(self, accumulator, expected):
        from tensorboard.plugins.hparams import api_pb2, metadata

        try:
            content = accumulator.PluginTagToContent(metadata.PLUGIN_NAME)
        except KeyError:  # no summary of the plugin at all
            content = {}
        if expected is None:
            self.expect(not content, f"hparams summaries {sorted(content)} present, none expected")
            return
        start_expected = expected["session_start"]
        if self.expect(metadata.SESSION_START_INFO_TAG in content, "no session_start_info summary"):
            start = metadata.parse_session_start_info_plugin_data(content[metadata.SESSION_START_INFO_TAG])
            self.hparams_values("session_start_info", start.hparams, start_expected["hparams"])
            self.expect(
                start.start_time_secs == number(start_expected["start_time"]),
                f"start_time_secs {start.start_time_secs!r}, expected {start_expected['start_time']!r}",
            )
        experiment_expected = expected.get("experiment")
        if experiment_expected is None:
            self.expect(metadata.EXPERIMENT_TAG not in content, "experiment summary present, none expected")
        elif self.expect(metadata.EXPERIMENT_TAG in content, "no experiment summary"):
            experiment = metadata.parse_experiment_plugin_data(content[metadata.EXPERIMENT_TAG])
            infos = [[info.name, api_pb2.DataType.Name(info.type)] for info in experiment.hparam_infos]
            self.expect(infos == experiment_expected["hparams"], f"experiment hparams {infos}")
            metrics = [info.name.tag for info in experiment.metric_infos]
            self.expect(metrics == experiment_expected["metrics"], f"experiment metrics {metrics}")
            self.expect(
                experiment.time_created_secs == number(experiment_expected["time_created"]),
                f"experiment time_created_secs {experiment.time_created_secs!r}",
            )
        end_expected = expected.get("session_end")
        if end_expected is None:
            self.expect(metadata.SESSION_END_INFO_TAG not in content, "session_end_info present, none expected")
        elif self.expect(metadata.SESSION_END_INFO_TAG in content, "no session_end_info summary"):
            end = metadata.parse_session_end_info_plugin_data(content[metadata.SESSION_END_INFO_TAG])
            status = api_pb2.Status.Name(end.status)
            self.expect(status == end_expected["status"], f"session end status {status}")
            self.expect(end.end_time_secs == number(end_expected["end_time"]), f"end_time_secs {end.end_time_secs!r}")

    def dashboard(self, run_directory, expected):
        """What the HParams dashboard shows for `tensorboard --logdir <parent of the run>`:
        its /experiment and /session_groups answers."""
        from tensorboard import context
        from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
        from tensorboard.plugins import base_plugin
        from tensorboard.plugins.hparams import api_pb2, backend_context, get_experiment, list_session_groups

        logdir = os.path.dirname(os.path.abspath(run_directory))
        multiplexer = plugin_event_multiplexer.EventMultiplexer(size_guidance={"scalars": 0, "tensors": 0})
        multiplexer.AddRunsFromDirectory(logdir)
        multiplexer.Reload()
        provider = data_provider.MultiplexerDataProvider(multiplexer, logdir)
        backend = backend_context.Context(base_plugin.TBContext(logdir=logdir, data_provider=provider))
        request_context = context.RequestContext()
        experiment = get_experiment.Handler(
            request_context, backend, "", api_pb2.GetExperimentRequest(include_metrics=True)
        ).run()
        hparam_names = sorted(info.name for info in experiment.hparam_infos)
        metric_tags = sorted(info.name.tag for info in experiment.metric_infos)
        self.expect(hparam_names == sorted(expected["hparams"]), f"dashboard hparam columns {hparam_names}")
        self.expect(metric_tags == sorted(expected["metrics"]), f"dashboard metric columns {metric_tags}")

        request = api_pb2.ListSessionGroupsRequest(
            start_index=0, slice_size=100, include_metrics=True,
            # The dashboard asks for every status; an empty list would filter every session out.
            allowed_statuses=[
                api_pb2.STATUS_UNKNOWN, api_pb2.STATUS_SUCCESS, api_pb2.STATUS_FAILURE, api_pb2.STATUS_RUNNING
            ],
            col_params=[api_pb2.ColParams(hparam=name) for name in hparam_names]
            + [api_pb2.ColParams(metric=api_pb2.MetricName(tag=tag)) for tag in metric_tags],
        )
        response = list_session_groups.Handler(request_context, backend, "", request).run()
        if not self.expect(len(response.session_groups) == 1, f"{len(response.session_groups)} session groups"):
            return
        group = response.session_groups[0]
        self.hparams_values("dashboard", group.hparams, expected["hparams"])
        metrics = {value.name.tag: value.value for value in group.metric_values}
        for tag, value in expected["metrics"].items():
            if self.expect(tag in metrics, f"dashboard has no metric {tag}"):
                self.expect(same(metrics[tag], number(value)), f"dashboard {tag} = {metrics[tag]!r}, expected {value!r}")


def main(argv):
    if argv[1:] == ["--probe"]:
        return probe()
    logdir, expected_path = argv[1], argv[2]
    with open(expected_path) as file:
        expected = json.load(file)

    from tensorboard.backend.event_processing import event_accumulator

    # size_guidance 0 keeps every event; the default keeps a sample of 1,000 scalars per tag.
    accumulator = event_accumulator.EventAccumulator(logdir, size_guidance={"scalars": 0, "tensors": 0})
    accumulator.Reload()
    checker = Checker()
    checker.scalars(accumulator, expected["scalars"])
    checker.plugin_data(accumulator, expected.get("hparams"))
    if expected.get("dashboard") is not None:
        checker.dashboard(logdir, expected["dashboard"])
    for error in checker.errors:
        print(error, file=sys.stderr)
    count = sum(len(events) for events in expected["scalars"].values())
    print(f"checked {len(expected['scalars'])} tags, {count} scalar events" + (" with errors" if checker.errors else ""))
    return 1 if checker.errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
