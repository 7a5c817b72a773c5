#!/usr/bin/env bash
# Installs what noko needs on a fresh Debian/Ubuntu machine, and nothing that is already there.
#   scripts/deps.sh system   C libraries and tools the package builds against
#   scripts/deps.sh test-system   system packages only the tests need (PostgreSQL)
#   scripts/deps.sh python   Python packages the interop tests read noko's files with
# The package lists live in one place: deps.list next to this script.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kind=${1:?usage: deps.sh system|test-system|python|bench-python}
packages=$(awk -v k="$kind" '$1 == k { for (i = 2; i <= NF; i++) print $i }' "$here/deps.list")

case "$kind" in
system|test-system)
    missing=()
    for p in $packages; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && exit 0
    if [ "$(id -u)" -eq 0 ]; then
        echo "noko: installing system packages: ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "noko: missing system packages. Run:" >&2
        echo "    sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    ;;
python)
    missing=()
    for p in $packages; do
        module=${p%%=*}; module=${module%%[<>]*}
        if [ "$p" != "${p#*/}" ]; then
            # pip name/module name, for a package imported under another name.
            python3 -c "import ${p#*/}" 2>/dev/null || missing+=("${p%%/*}")
            continue
        fi
        if [ "$p" != "${p#*==}" ]; then
            # A pinned version: installed at another version counts as missing.
            python3 -c "import $module, importlib.metadata as m, sys; sys.exit(m.version('$module') != '${p#*==}')" 2>/dev/null \
                || missing+=("$p")
        else
            python3 -c "import $module" 2>/dev/null || missing+=("$p")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && exit 0
    echo "noko: installing Python packages for the interop tests: ${missing[*]}"
    python3 -m pip install -q --disable-pip-version-check "${missing[@]}"
    ;;
bench-python)
    # A virtual environment of its own: the benchmark's versions never disturb the tests'.
    venv="$here/../.build/bench-python"
    if ! "$venv/bin/python" -c "
import importlib.metadata as m, sys
pins = dict(p.split('==') for p in sys.argv[1:])
sys.exit(any(m.version(n) != v for n, v in pins.items()))" $packages 2>/dev/null; then
        echo "noko: installing Python noko for the benchmark into $venv: $(echo $packages)"
        python3 -m venv "$venv"
        "$venv/bin/python" -m pip install -q --disable-pip-version-check $packages
    fi
    ;;
*)
    echo "usage: deps.sh system|python|bench-python" >&2; exit 2 ;;
esac
