#!/usr/bin/env python3
"""Checks a page written by `noko-run report` against what the runs hold.

    check_report.py REPORT.html SPEC.json

SPEC is a JSON object written by the Swift test:
  runs:        [run directory, …] in report order (their summary.json files are the truth)
  columns:     ["table/key", …]   every chart the page must have, and no other
  differing:   [config key, …]    config rows that must be marked `differs`
  same:        [config key, …]    config rows that must not be
  log:         ["table/key", …]   charts that must have a log-scale version
  linear_only: ["table/key", …]   charts that must not
  marks:       {"table/key": ["nan", "posinf", "neginf"]}  markers that must be drawn
  smoothed:    true when the page was made with --smooth
  grouped:     true when the page was made with --group-by or --over: every run is drawn
               faint (`g.run.trial`, opacity below 1) in its group's colour
  curves:      {"table/key": [{"name": "lr=0.1", "step": [...], "mean": [...], "std": [...],
               "n": [...]}]}  every group curve the chart must have, and no other, with its
               points as the test computed them from the runs' rows (null for "none": a
               mean where no run has a value, a std where fewer than two have one); an
               entry with only a name checks the curve's drawing against its own numbers

Checks: (a) the page parses with html5lib in strict mode (any parse error fails; the
standard library's html.parser accepts anything and proves nothing); the page is
self-contained (no external script, style, font or image); (b) every selected column has
exactly one figure; (c) every SVG coordinate is a finite number; (d) every run with finite
values in a column is drawn in its chart, and the drawn band and line of each run reach the
column's global minimum and maximum from summary.json (read back through the axis transform
the chart carries, to a twentieth of a unit); (e) the
config rows that differ between runs are marked, and only those; (f) each group's curve
carries the expected numbers (`data-step`, `data-mean`, `data-std`, `data-n`), its mean line
passes through (x(step), y(mean)) at every point and nowhere else, and its band's top edge is
at y(mean + std) and its bottom edge at y(mean − std) at every point with a std, broken where
there is none (a group of one has no band at all).

Prints one line per failure and exits 1 if there is any; prints "ok …" otherwise.
"""
import json
import math
import os
import re
import sys

import html5lib

SVG = "{http://www.w3.org/2000/svg}"
failures = []


def fail(message):
    failures.append(message)


def local(tag):
    return tag.split("}", 1)[1] if tag.startswith("{") else tag


def classes(element):
    return (element.get("class") or "").split()


NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
TOKEN = re.compile(r"\s*(?:([MLHVZAmlhvza])|(" + NUMBER + r"))\s*,?")


def path_tokens(d, where):
    """The commands and numbers of a path, failing on anything else (`nan`, `inf`…)."""
    tokens, position = [], 0
    while position < len(d):
        m = TOKEN.match(d, position)
        if not m or m.end() == position:
            fail(f"{where}: path data has something that is not a finite number at {d[position:position + 20]!r}")
            return tokens
        tokens.append(m.group(1) or float(m.group(2)))
        position = m.end()
    for t in tokens:
        if isinstance(t, float) and not math.isfinite(t):
            fail(f"{where}: non-finite number {t} in path data")
    return tokens


def path_points(d, where):
    """Absolute (x, y) vertices of a path made of M/L/H/V/Z and relative m/l/h/v/z."""
    tokens = path_tokens(d, where)
    points, x, y, start, command, i = [], 0.0, 0.0, (0.0, 0.0), None, 0
    while i < len(tokens):
        t = tokens[i]
        if isinstance(t, str):
            command = t
            i += 1
            if t in "Zz":
                x, y = start
            continue
        if command in ("M", "L", "m", "l"):
            dx, dy = tokens[i], tokens[i + 1]
            i += 2
            if command in "ml":
                x, y = x + dx, y + dy
            else:
                x, y = dx, dy
            if command in "Mm":
                start = (x, y)
                command = "L" if command == "M" else "l"
        elif command in ("H", "h"):
            x = t if command == "H" else x + t
            i += 1
        elif command in ("V", "v"):
            y = t if command == "V" else y + t
            i += 1
        else:
            fail(f"{where}: unexpected path command {command!r} in a data path")
            return points
        points.append((x, y))
    return points


COORDINATE_ATTRIBUTES = ("x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "width", "height", "viewBox", "transform")


def check_coordinates(svg, where):
    for element in svg.iter():
        tag = local(element.tag)
        if element.get("d") is not None:
            path_tokens(element.get("d"), f"{where} <{tag} class={element.get('class')!r}>")
        for name in COORDINATE_ATTRIBUTES:
            value = element.get(name)
            if value is None or (name in ("width", "height") and value.endswith("%")):
                continue
            text = re.sub(r"^(rotate|translate|scale)\(|\)$", "", value) if name == "transform" else value
            for part in re.split(r"[\s,]+", text.strip()):
                try:
                    number = float(part)
                except ValueError:
                    fail(f"{where} <{tag}> {name}={value!r}: not a number")
                    continue
                if not math.isfinite(number):
                    fail(f"{where} <{tag}> {name}={value!r}: not finite")
        for name, value in element.attrib.items():
            if name.startswith("data-") and name[5:] in ("x0", "x1", "y0", "y1", "px0", "px1", "py0", "py1"):
                if not math.isfinite(float(value)):
                    fail(f"{where}: {name}={value!r} is not finite")


def number(value):
    """A summary value as a float: numbers, and the strings noko writes for NaN and ±∞."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}.get(value)


def subpaths(d, where):
    """The vertices of each `M…` subpath of a path, as path_points reads them."""
    return [path_points("M" + chunk, where) for chunk in d.split("M") if chunk.strip()]


def x_position(svg, value):
    x0, x1 = float(svg.get("data-x0")), float(svg.get("data-x1"))
    p0, p1 = float(svg.get("data-px0")), float(svg.get("data-px1"))
    return p0 + (value - x0) / (x1 - x0) * (p1 - p0)


def y_position(svg, value):
    y0, y1 = float(svg.get("data-y0")), float(svg.get("data-y1"))
    p0, p1 = float(svg.get("data-py0")), float(svg.get("data-py1"))
    if svg.get("data-scale") == "log":
        t = (math.log10(value) - math.log10(y0)) / (math.log10(y1) - math.log10(y0))
    else:
        t = (value - y0) / (y1 - y0)
    return p0 + t * (p1 - p0)


def check_extremes(svg, column, summaries, where):
    """(d): per run, the drawn data's lowest and highest point are the column's extremes."""
    table, key = column.split("/", 1)
    drawn_runs = set()
    for group in svg.iter(SVG + "g"):
        if "run" not in classes(group):
            continue
        run = int(group.get("data-run"))
        drawn_runs.add(run)
        info = summaries[run]["tables"].get(table, {}).get("columns", {}).get(key)
        if info is None:
            fail(f"{where}: run {run} is drawn but its summary.json has no column {key!r} in {table!r}")
            continue
        ys = []
        for path in group.iter(SVG + "path"):
            if set(classes(path)) & {"band", "line", "dot"}:
                ys += [y for _, y in path_points(path.get("d"), where)]
        low, high = number(info.get("min")), number(info.get("max"))
        expected = [(name, v) for name, v in (("min", low), ("max", high)) if v is not None and math.isfinite(v)]
        if not expected:
            continue
        if not ys:
            fail(f"{where}: run {run} has finite values ({low} … {high}) but nothing is drawn")
            continue
        # SVG y grows downwards: the maximum is the smallest coordinate.
        drawn = {"max": min(ys), "min": max(ys)}
        for name, value in expected:
            if svg.get("data-scale") == "log" and value <= 0:
                continue
            target = y_position(svg, value)
            if abs(drawn[name] - target) > 0.051:
                fail(f"{where}: run {run}: the drawn {name} is at y={drawn[name]:.3f}, but the column's {name} {value!r} "
                     f"maps to y={target:.3f}")
    # Every run with finite values in this column is drawn: a chart that leaves a run out
    # would pass every check above, which only look at the runs present.
    for run, summary in enumerate(summaries):
        info = summary["tables"].get(table, {}).get("columns", {}).get(key)
        if info is None or run in drawn_runs:
            continue
        bounds = [number(info.get("min")), number(info.get("max"))]
        if any(v is not None and math.isfinite(v) for v in bounds):
            fail(f"{where}: run {run} has data in {column!r} but is not drawn")


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def runs_of(points, keep):
    """Consecutive points for which keep() holds, as the renderer splits a line at gaps."""
    runs, current = [], []
    for point in points:
        if keep(point):
            current.append(point)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def same_point(svg, vertex, x, y, what, where):
    if abs(vertex[0] - x) > 0.051 or abs(vertex[1] - y) > 0.051:
        fail(f"{where}: {what} is drawn at ({vertex[0]:.2f}, {vertex[1]:.2f}), expected ({x:.2f}, {y:.2f})")
        return False
    return True


def check_curves(svg, column, expected, where):
    """(f): each expected group curve, its numbers, its mean line and its band."""
    log = svg.get("data-scale") == "log"
    curves = {g.get("data-name"): g for g in svg.iter(SVG + "g") if "curve" in classes(g)}
    spreads = {g.get("data-group"): g for g in svg.iter(SVG + "g") if "spread" in classes(g)}
    for name in sorted(curves.keys() - {c["name"] for c in expected}):
        fail(f"{where}: a curve {name!r}, which no group should have here")
    for curve in expected:
        at = f"{where}, curve {curve['name']!r}"
        group = curves.get(curve["name"])
        if group is None:
            fail(f"{at}: no such curve")
            continue
        data = {}
        for key in ("step", "mean", "std", "n"):
            values = [float(v) for v in (group.get("data-" + key) or "").split()]
            data[key] = [None if math.isnan(v) else v for v in values]
        points = list(zip(data["step"], data["mean"], data["std"], data["n"]))
        for key in ("step", "mean", "std", "n"):
            if key not in curve:
                continue
            if len(data[key]) != len(curve[key]) or not all(close(a, b) for a, b in zip(data[key], curve[key])):
                fail(f"{at}: data-{key} is {data[key][:12]}, expected {curve[key][:12]}")
        # The mean: every run of two or more points is one subpath through them; single points are dots.
        drawable = runs_of(points, lambda p: p[1] is not None and (not log or p[1] > 0))
        paths = [p for p in group if local(p.tag) == "path" and "mean" in classes(p)]
        drawn = subpaths(paths[0].get("d"), at) if paths else []
        lines = [r for r in drawable if len(r) > 1]
        if len(drawn) != len(lines):
            fail(f"{at}: the mean is {len(drawn)} line(s), expected {len(lines)}")
        for vertices, run in zip(drawn, lines):
            if len(vertices) != len(run):
                fail(f"{at}: a mean line of {len(vertices)} points for {len(run)} points")
                continue
            for vertex, (step, mean, _, _) in zip(vertices, run):
                if not same_point(svg, vertex, x_position(svg, step), y_position(svg, mean), f"the mean at step {step}", at):
                    break
        # The band: one closed shape per run of points with a std, top edge forwards, bottom back.
        banded = runs_of(points, lambda p: p[1] is not None and p[2] is not None and (not log or p[1] + p[2] > 0))
        spread = spreads.get(group.get("data-group"))
        if not banded:
            if spread is not None:
                fail(f"{at}: a band, but no point has two runs to spread over")
            continue
        if spread is None:
            fail(f"{at}: no band")
            continue
        bands = [p for p in spread if local(p.tag) == "path" and "std" in classes(p)]
        shapes = subpaths(bands[0].get("d"), at) if bands else []
        if len(shapes) != len(banded):
            fail(f"{at}: the band is {len(shapes)} shape(s), expected {len(banded)}")
        bottom = float(svg.get("data-py0"))
        for vertices, run in zip(shapes, banded):
            edges = [(x_position(svg, s), y_position(svg, m + d), y_position(svg, m - d) if not log or m - d > 0 else bottom)
                     for s, m, d, _ in run]
            if len(edges) == 1:  # a lone point is given a width
                x, top, low = edges[0]
                edges = [(x - 0.6, top, low), (x + 0.6, top, low)]
            if len(vertices) != 2 * len(edges):
                fail(f"{at}: a band shape of {len(vertices)} points for {len(run)} points")
                continue
            upper, lower = vertices[:len(edges)], list(reversed(vertices[len(edges):]))
            for (x, top, low), up, down in zip(edges, upper, lower):
                if not (same_point(svg, up, x, top, "the band's top (mean + std)", at)
                        and same_point(svg, down, x, low, "the band's bottom (mean − std)", at)):
                    break


def main():
    html_path, spec_path = sys.argv[1], sys.argv[2]
    with open(spec_path) as f:
        spec = json.load(f)
    with open(html_path, "rb") as f:
        data = f.read()
    # (a) strict parse: the first parse error raises.
    parser = html5lib.HTMLParser(strict=True, tree=html5lib.getTreeBuilder("etree"), namespaceHTMLElements=False)
    try:
        document = parser.parse(data)
    except Exception as error:  # html5lib.html5parser.ParseError
        line, column = parser.errors[0][0] if parser.errors else ("?", "?")
        print(f"{html_path}:{line}:{column}: not strict HTML5: {error}")
        sys.exit(1)
    for element in document.iter():
        tag = local(element.tag)
        if tag == "script" and element.get("src"):
            fail(f"external script {element.get('src')!r}")
        if tag == "link":
            fail(f"<link> to {element.get('href')!r}: the page must be self-contained")
        if tag in ("img", "iframe", "object", "embed", "audio", "video", "source"):
            fail(f"<{tag}> element: the page must be self-contained")
        for name in ("src", "href", "{http://www.w3.org/1999/xlink}href"):
            value = element.get(name)
            if value and not value.startswith("#"):
                fail(f"<{tag} {name}={value!r}>: a reference outside the page")
        if tag == "style" and re.search(r"@import|url\(", element.text or ""):
            fail("a style refers outside the page (@import or url())")

    summaries = []
    for run in spec["runs"]:
        with open(os.path.join(run, "summary.json")) as f:
            summaries.append(json.load(f))

    # (b) one figure per selected column, and no other.
    figures = {}
    for figure in document.iter("figure"):
        column = figure.get("data-column")
        if column in figures:
            fail(f"two figures for {column!r}")
        figures[column] = figure
    expected = set(spec["columns"])
    for column in sorted(expected - figures.keys()):
        fail(f"no chart for the selected column {column!r}")
    for column in sorted(figures.keys() - expected):
        fail(f"a chart for {column!r}, which was not selected")

    svgs = 0
    for column, figure in sorted(figures.items()):
        charts = [e for e in figure.iter(SVG + "svg")]
        svgs += len(charts)
        scales = sorted(svg.get("data-scale") for svg in charts)
        want_log = column in spec.get("log", [])
        if column in spec.get("log", []) and scales != ["linear", "log"]:
            fail(f"{column}: expected a linear and a log chart, found {scales}")
        if column in spec.get("linear_only", []) and scales != ["linear"]:
            fail(f"{column}: expected only a linear chart, found {scales}")
        if not want_log and "log" in scales and column in spec.get("linear_only", []):
            fail(f"{column}: unexpected log chart")
        # The figure's data-min/max are the exact extremes over the runs, when every run's are finite.
        table, key = column.split("/", 1)
        infos = [s["tables"].get(table, {}).get("columns", {}).get(key) for s in summaries]
        infos = [i for i in infos if i is not None]
        for bound, pick in (("min", min), ("max", max)):
            values = [number(i.get(bound)) for i in infos]
            if values and all(v is not None and math.isfinite(v) for v in values):
                if figure.get("data-" + bound) == "" or float(figure.get("data-" + bound)) != pick(values):
                    fail(f"{column}: data-{bound} {figure.get('data-' + bound)!r} but the runs' {bound} is {pick(values)!r}")
        for svg in charts:
            where = f"{column} ({svg.get('data-scale')})"
            check_coordinates(svg, where)   # (c)
            check_extremes(svg, column, summaries, where)   # (d)
            if spec.get("smoothed") and not any("smooth" in classes(p) for p in svg.iter(SVG + "path")):
                fail(f"{where}: no smoothed line")
            if column in spec.get("curves", {}):
                check_curves(svg, column, spec["curves"][column], where)   # (f)
            if spec.get("grouped"):
                for group in svg.iter(SVG + "g"):
                    if "run" in classes(group) and ("trial" not in classes(group) or float(group.get("opacity", "1")) >= 1):
                        fail(f"{where}: run {group.get('data-run')} is not drawn faint behind its group")
            elif any("curve" in classes(g) for g in svg.iter(SVG + "g")):
                fail(f"{where}: group curves on a page of runs")
        for mark in spec.get("marks", {}).get(column, []):
            if not any(mark in classes(p) and "mark" in classes(p) for p in figure.iter(SVG + "path")):
                fail(f"{column}: no {mark} marker")

    # (e) differing config values are marked, and only those.
    rows = {row.get("data-key"): row for row in document.iter("tr") if row.get("data-key") is not None}
    for key in spec.get("differing", []):
        row = rows.get(key)
        if row is None:
            fail(f"config key {key!r} has no row")
            continue
        if "differs" not in classes(row):
            fail(f"config key {key!r} differs between runs but its row is not marked")
        cells = [c for c in row if local(c.tag) == "td"]
        if len(cells) != len(spec["runs"]) or not all("differs" in classes(c) for c in cells):
            fail(f"config key {key!r}: expected {len(spec['runs'])} cells marked differs")
    for key in spec.get("same", []):
        row = rows.get(key)
        if row is None:
            fail(f"config key {key!r} has no row")
        elif "differs" in classes(row) or any("differs" in classes(c) for c in row):
            fail(f"config key {key!r} is the same in every run but is marked as differing")

    if failures:
        for message in failures[:40]:
            print(message)
        if len(failures) > 40:
            print(f"… and {len(failures) - 40} more")
        sys.exit(1)
    print(f"ok: {len(figures)} charts, {svgs} svg, {len(rows)} config rows")


main()
