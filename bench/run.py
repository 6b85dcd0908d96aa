"""Run every CityLedger benchmark and write BENCHMARKS.md.

    .venv/bin/python bench/run.py            # full mode (sizes as the issues ask)
    .venv/bin/python bench/run.py --quick    # a few minutes: smaller sizes, fewer repeats
    .venv/bin/python bench/run.py --only gas,indexer

Each area is a module bench/<area>.py exposing run(quick) -> dict (see bench/README.md). An area that
fails is reported as failed in BENCHMARKS.md with its error; the others still run. Each area's result is
also kept in bench/results/<area>.json, so one area can be re-run alone and the report rebuilt with
`--report-only`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
PLOTS = BENCH / "plots"
AREAS = ["gas", "fingerprint", "indexer", "api", "lag", "privacy", "dataroom"]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    system = f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    return f"{os.cpu_count()} cores ({cpu}){mem}, {system}"


def load_area(area: str):
    path = BENCH / f"{area}.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f"bench_{area}", path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(BENCH))
    spec.loader.exec_module(module)
    return module


def keep_plot(path: str) -> str:
    """Plots live in bench/plots/ (tracked), whatever folder an area wrote them to."""
    import shutil

    src = Path(path).resolve()
    PLOTS.mkdir(exist_ok=True)
    dest = PLOTS / src.name
    if src != dest:
        shutil.copyfile(src, dest)
    return str(dest.relative_to(ROOT))


def run_area(area: str, quick: bool) -> dict:
    module = load_area(area)
    if module is None:
        return {"area": area, "title": area, "missing": True, "rows": [], "plots": [], "notes": []}
    started = time.monotonic()
    try:
        result = module.run(quick)
    except Exception as exc:  # one failing area must not lose the others' figures
        result = {
            "area": area,
            "title": area,
            "rows": [],
            "plots": [],
            "notes": [],
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
        }
    result.setdefault("area", area)
    return record(result, quick, time.monotonic() - started)


def record(result: dict, quick: bool, seconds: float) -> dict:
    """Stamp an area's result (mode, date, run time; plots kept in bench/plots) and save it as
    bench/results/<area>.json. Used by this runner and by each area's standalone run alike."""
    result["plots"] = [keep_plot(p) for p in result.get("plots") or [] if Path(p).is_file()]
    result["seconds"] = round(seconds, 1)
    result["quick"] = quick
    result["date"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{result['area']}.json").write_text(json.dumps(result, indent=2, default=str))
    return result


def fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value == 0:
            return "0"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render(results: list[dict], command: str) -> str:
    git = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    lines = [
        "# CityLedger benchmarks",
        "",
        "Written by `bench/run.py`; do not edit by hand. Every figure beside its baseline is measured in",
        "the same run on the same machine; figures are medians of several runs where the section says so.",
        "No test asserts any of these numbers: the machine is shared and noisy.",
        "",
        f"- Command: `{command}`",
        f"- Machine: {machine()}",
        f"- Commit: {git or 'uncommitted'}",
        "",
        "| section | mode | date | seconds |",
        "|---|---|---|---|",
    ]
    for r in results:
        state = (
            "missing" if r.get("missing") else ("FAILED" if r.get("error") else ("quick" if r.get("quick") else "full"))
        )
        lines.append(
            f"| [{r.get('title', r['area'])}](#{r['area']}) | {state} | {r.get('date', '')} | {r.get('seconds', '')} |"
        )
    for r in results:
        lines += ["", f'<a id="{r["area"]}"></a>', f"## {r.get('title', r['area'])}", ""]
        if r.get("missing"):
            lines.append(f"bench/{r['area']}.py is not there yet.")
            continue
        if r.get("error"):
            lines += [f"This section failed: `{r['error']}`", ""]
        if r.get("command"):
            lines += [f"Alone: `{r['command']}`", ""]
        rows = r.get("rows") or []
        if rows:
            lines += [
                "| metric | value | unit | baseline | baseline value | ratio | target | met | note |",
                "|---|---|---|---|---|---|---|---|---|",
            ]
            for row in rows:
                met = row.get("met")
                lines.append(
                    "| "
                    + " | ".join(
                        [
                            str(row.get("metric", "")),
                            fmt(row.get("value")),
                            str(row.get("unit") or ""),
                            str(row.get("baseline") or ""),
                            fmt(row.get("baseline_value")),
                            (fmt(row.get("ratio")) + "x") if row.get("ratio") is not None else "",
                            str(row.get("target") or ""),
                            "" if met is None else ("yes" if met else "**no**"),
                            str(row.get("note") or "").replace("|", "/"),
                        ]
                    )
                    + " |"
                )
        for plot in r.get("plots") or []:
            rel = os.path.relpath(Path(plot).resolve(), ROOT) if Path(plot).is_absolute() else plot
            lines += ["", f"![{Path(plot).stem}]({rel})"]
        for note in r.get("notes") or []:
            lines += ["", f"- {note}"]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes; the whole run in a few minutes")
    parser.add_argument("--only", default="", help="comma-separated areas (default: all)")
    parser.add_argument("--report-only", action="store_true", help="rebuild BENCHMARKS.md from bench/results/*.json")
    args = parser.parse_args()
    areas = [a for a in args.only.split(",") if a] or AREAS
    unknown = set(areas) - set(AREAS)
    if unknown:
        parser.error(f"unknown area(s): {', '.join(sorted(unknown))}; known: {', '.join(AREAS)}")
    results = []
    for area in AREAS:
        if area in areas and not args.report_only:
            print(f"== {area} ({'quick' if args.quick else 'full'})", flush=True)
            result = run_area(area, args.quick)
            print(
                f"   {'FAILED: ' + result['error'] if result.get('error') else 'done'} in {result['seconds']} s",
                flush=True,
            )
        else:
            saved = RESULTS / f"{area}.json"
            result = json.loads(saved.read_text()) if saved.is_file() else {"area": area, "missing": True}
        results.append(result)
    command = "make bench-quick" if args.quick else "make bench"
    if args.only:
        command = f".venv/bin/python bench/run.py {'--quick ' if args.quick else ''}--only {args.only}"
    (ROOT / "BENCHMARKS.md").write_text(render(results, command))
    print("wrote BENCHMARKS.md")
    return 1 if any(r.get("error") for r in results if r["area"] in areas) else 0


if __name__ == "__main__":
    sys.exit(main())
