"""Mutation testing of the money-critical modules with cosmic-ray.

    .venv/bin/python -m bench.mutation                 all five modules
    .venv/bin/python -m bench.mutation tax allocation  only these; the others keep their recorded results

Each module has a cosmic-ray configuration beside this file (``<module>.toml``): the file to mutate
and the tests that must kill its mutants, fast unit tests first, then, where a module needs them,
tests against PostgreSQL. For every module:

1. the project is copied to a scratch directory, so a mutant is never written into the work tree
   (cosmic-ray edits the file in place) and two modules can be mutated side by side;
2. ``cosmic-ray init`` lists every mutant; mutants inside a type annotation are set aside as
   equivalent (``from __future__ import annotations`` leaves annotations unevaluated);
3. ``cosmic-ray baseline`` checks that the tests pass on the unmutated code (otherwise every mutant
   would count as killed);
4. ``cosmic-ray exec`` runs the tests once per mutant.

Survivors listed in ``equivalent.toml`` (by line, operator and the line's text, so an entry goes
stale when the code changes) count as equivalent; the rest as survived. The results go to
``bench/results/mutation.json``. PostgreSQL and Redis are started once, as ``dev.py test`` does,
unless DATABASE_URL and REDIS_URL name running servers.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import tomllib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
RESULTS = ROOT / "bench" / "results" / "mutation.json"
KEPT = ROOT / ".mutation"  # the sessions, kept for --again (not in git)
MODULES = ("money", "periods", "tax", "pricing", "allocation")
# Not copied to the scratch directory: environments, caches, data.
SKIP = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".uv",
    ".data",
    "__pycache__",
    "*.pyc",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".hypothesis",
)
SEED = 16  # for --sample
ANNOTATION = "in a type annotation, which `from __future__ import annotations` leaves unevaluated"


def say(message: str) -> None:
    print(f"[mutation] {message}", flush=True)  # noqa: T201 - a command-line tool


@dataclass(frozen=True, slots=True)
class Mutant:
    job_id: str
    path: str
    operator: str
    line: int
    column: int
    occurrence: int
    text: str  # the source line, stripped

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


def load_config(module: str) -> dict[str, Any]:
    with (HERE / f"{module}.toml").open("rb") as handle:
        config: dict[str, Any] = tomllib.load(handle)["cosmic-ray"]
        return config


def annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where the annotations of a module are, as ((line, column), (end line, end column)); none
    unless the module postpones their evaluation."""
    tree = ast.parse(source)
    postponed = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "__future__"
        and any(a.name == "annotations" for a in node.names)
        for node in tree.body
    )
    if not postponed:
        return []
    found: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and node.annotation is not None:
            found.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
            found.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            found.append(node.annotation)
    return [((n.lineno, n.col_offset), (n.end_lineno or n.lineno, n.end_col_offset or 0)) for n in found]


def in_annotation(mutant: Mutant, spans: list[tuple[tuple[int, int], tuple[int, int]]]) -> bool:
    point = (mutant.line, mutant.column)
    return any(start <= point < end for start, end in spans)


def mutants(db: WorkDB, scratch: Path) -> list[Mutant]:
    lines: dict[str, list[str]] = {}
    found = []
    for item in db.work_items:
        [spec] = item.mutations
        path = str(spec.module_path)
        if path not in lines:
            lines[path] = (scratch / path).read_text().splitlines()
        line, column = spec.start_pos
        text = lines[path][line - 1].strip()
        found.append(Mutant(item.job_id, path, spec.operator_name, line, column, spec.occurrence, text))
    return sorted(found, key=lambda m: (m.line, m.column, m.operator, m.occurrence))


STARTED: set[subprocess.Popen[bytes]] = set()  # cosmic-ray processes running, stopped on Ctrl-C
STOPPING = threading.Event()


def run(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> None:
    if STOPPING.is_set():
        raise SystemExit("stopped")
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        # A session of its own, so that stopping it also stops the tests it started.
        process = subprocess.Popen(  # noqa: S603 - our own commands
            command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        STARTED.add(process)
        try:
            returncode = process.wait()
        finally:
            STARTED.discard(process)
    if returncode != 0:
        raise SystemExit(f"{' '.join(command[:2])} failed in {cwd} (see {log})")


def interrupted(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def stop_all() -> None:
    STOPPING.set()
    for process in list(STARTED):
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)


def retry_survivors(session: Path) -> int:
    """Forget the results of the survivors not listed as equivalent, so that exec tests them
    again; the count forgotten."""
    known = equivalents()
    forget = []
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item, result in db.completed_work_items:
            if result.test_outcome != TestOutcome.SURVIVED:
                continue
            [spec] = item.mutations
            line, column = spec.start_pos
            key = (spec.operator_name, line, column, str(spec.module_path), mutated_line(result.diff or ""))
            if key not in known:
                forget.append(item.job_id)
    with sqlite3.connect(session) as db:
        db.executemany("DELETE FROM work_results WHERE job_id = ?", [(job,) for job in forget])
    return len(forget)


@dataclass(frozen=True, slots=True)
class Plan:
    """Which mutants of a module are tested: all but those in annotations, or a sample of them."""

    found: list[Mutant]
    in_annotations: list[Mutant]
    tested: list[Mutant]
    sample: int | None

    @classmethod
    def make(cls, found: list[Mutant], source: str, sample: int | None) -> Plan:
        spans = annotation_spans(source)
        in_annotations = [m for m in found if in_annotation(m, spans)]
        candidates = [m for m in found if not in_annotation(m, spans)]
        if sample is None or sample >= len(candidates):
            return cls(found, in_annotations, candidates, None)
        # The same sample for the same module and seed: mutants are listed in source order.
        chosen = random.Random(SEED).sample(candidates, sample)  # noqa: S311 - a reproducible sample, not a secret
        return cls(found, in_annotations, sorted(chosen, key=found.index), sample)

    @property
    def set_aside(self) -> list[str]:
        tested = {m.job_id for m in self.tested}
        return [m.job_id for m in self.found if m.job_id not in tested]


def mutate(module: str, work: Path, env: dict[str, str], *, again: bool, sample: int | None) -> dict[str, Any]:
    """The module's mutants, tested; the module's entry for the results file."""
    config = load_config(module)
    scratch = work / module
    shutil.copytree(ROOT, scratch, ignore=SKIP)
    KEPT.mkdir(exist_ok=True)
    session, log, stamp = KEPT / f"{module}.sqlite", KEPT / f"{module}.log", KEPT / f"{module}.source"
    source = (ROOT / config["module-path"]).read_bytes()
    toml = str(scratch / "bench" / "mutation" / f"{module}.toml")
    cosmic_ray = str(Path(sys.executable).parent / "cosmic-ray")
    resumed = again and session.exists() and stamp.exists() and stamp.read_bytes() == source
    if resumed:
        # The module is as it was: what was killed stays killed (tests were only added since).
        say(f"{module}: trying the {retry_survivors(session)} survivors of the last run again")
    else:
        session.unlink(missing_ok=True)
        log.unlink(missing_ok=True)
        run([cosmic_ray, "init", toml, str(session)], scratch, env, log)
        stamp.write_bytes(source)
        (KEPT / f"{module}.sample").write_text("" if sample is None else str(sample))
    with use_db(str(session), WorkDB.Mode.open) as db:
        plan = Plan.make(mutants(db, scratch), source.decode(), sample)
        if plan.set_aside and not resumed:
            db.set_multiple_results(plan.set_aside, WorkResult(worker_outcome=WorkerOutcome.SKIPPED))
        pending = len(db.pending_work_items)
    say(
        f"{module}: {len(plan.found)} mutants, {len(plan.in_annotations)} in annotations, {len(plan.tested)} to test; "
        "checking the tests pass unmutated"
    )
    run([cosmic_ray, "baseline", toml], scratch, env, log)
    say(f"{module}: testing {pending} mutants")
    run([cosmic_ray, "exec", toml, str(session)], scratch, env, log)
    with use_db(str(session), WorkDB.Mode.open) as db:
        results = dict(db.results)
    entry = summarize(config, plan, results)
    return {**entry, "survivors_retried": resumed}


def report_only(module: str) -> dict[str, Any]:
    """The module's entry from the kept session, without testing anything (after equivalent.toml
    changed, or when a run was stopped: what was not tested yet counts as not run)."""
    config = load_config(module)
    session, stamp = KEPT / f"{module}.sqlite", KEPT / f"{module}.source"
    source = (ROOT / config["module-path"]).read_bytes()
    if not session.exists() or not stamp.exists() or stamp.read_bytes() != source:
        raise SystemExit(f"{module}: no kept session for the module as it is now; run it first")
    sample = (KEPT / f"{module}.sample").read_text()
    with use_db(str(session), WorkDB.Mode.open) as db:
        plan = Plan.make(mutants(db, ROOT), source.decode(), int(sample) if sample else None)
        results = dict(db.results)
    return summarize(config, plan, results)


def equivalents() -> dict[tuple[str, int, int, str, str], dict[str, Any]]:
    with (HERE / "equivalent.toml").open("rb") as handle:
        entries = tomllib.load(handle)["equivalent"]
    # Two mutants can share a place and an operator (a number made one larger, or one smaller):
    # the mutated text tells them apart.
    return {(e["operator"], e["line"], e["column"], e["path"], e["mutated"]): e for e in entries}


def mutated_line(diff: str) -> str:
    """The mutated line of a one-line mutation, stripped, from cosmic-ray's diff."""
    added = (line[1:].strip() for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++"))
    return next(added, "")


def summarize(config: dict[str, Any], plan: Plan, results: dict[str, WorkResult]) -> dict[str, Any]:
    known = equivalents()
    counts: Counter[str] = Counter()
    equivalent = [{"where": m.where, "operator": m.operator, "why": ANNOTATION} for m in plan.in_annotations]
    survived, stale = [], []
    for mutant in plan.tested:
        result = results.get(mutant.job_id)
        if result is None:
            counts["not_run"] += 1
        elif result.worker_outcome == WorkerOutcome.NO_TEST:
            counts["not_applicable"] += 1
        elif result.test_outcome == TestOutcome.INCOMPETENT:
            counts["incompetent"] += 1  # the tests could not be run at all: neither killed nor survived
        elif result.test_outcome != TestOutcome.SURVIVED:
            counts["killed"] += 1  # a test failed or timed out, or the mutant could not even be imported
        else:
            mutated = mutated_line(result.diff or "")
            entry = known.get((mutant.operator, mutant.line, mutant.column, mutant.path, mutated))
            if entry is not None and entry["text"] == mutant.text:
                counts["equivalent"] += 1
                equivalent.append(
                    {"where": mutant.where, "operator": mutant.operator, "mutated": mutated, "why": entry["why"]}
                )
                continue
            if entry is not None:
                stale.append(mutant.where)
            counts["survived"] += 1
            survived.append(
                {"where": mutant.where, "operator": mutant.operator, "line": mutant.text, "mutated": mutated}
            )
    live = counts["killed"] + counts["survived"]
    return {
        "module": config["module-path"],
        "test_command": config["test-command"],
        "mutants": len(plan.found),
        "in_annotations": len(plan.in_annotations),
        "sample": None if plan.sample is None else {"size": plan.sample, "seed": SEED},
        "tested": len(plan.tested),
        "killed": counts["killed"],
        "survived": counts["survived"],
        "equivalent": counts["equivalent"] + len(plan.in_annotations),
        "incompetent": counts["incompetent"],
        "not_run": counts["not_run"],
        "score": round(counts["killed"] / live, 4) if live else None,
        "date": datetime.now(UTC).date().isoformat(),
        "survivors": survived,
        "stale_equivalents": stale,
        "equivalents": equivalent,
    }


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    return {"cores": os.cpu_count(), "cpu": model, "python": platform.python_version(), "system": platform.platform()}


def write_results(done: dict[str, dict[str, Any]], command: str, *, reported: bool = False) -> None:
    """Merge these modules' entries into the results file (the others keep theirs) and print them.
    ``reported``: summarized again, not run: each keeps the command it was run with."""
    recorded = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    before = recorded.get("modules", {})
    modules = {
        **before,
        **{
            m: {**entry, "run_with": before.get(m, {}).get("run_with", command) if reported else command}
            for m, entry in done.items()
        },
    }
    report: dict[str, Any] = {
        "benchmark": "mutation",
        "tool": f"cosmic-ray {version('cosmic-ray')}",
        "command": ".venv/bin/python -m bench.mutation",
        "machine": machine(),
        "date": datetime.now(UTC).date().isoformat(),
        "target": "at least 95% of the non-equivalent mutants of each module killed",
        "modules": {name: modules[name] for name in MODULES if name in modules},
    }
    if "notes" in recorded:  # written by hand: how the recorded runs came about
        report["notes"] = recorded["notes"]
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    for name, entry in report["modules"].items():
        score = "-" if entry["score"] is None else f"{100 * entry['score']:.1f}%"
        say(
            f"{name}: {entry['killed']} killed, {entry['survived']} survived, {entry['equivalent']} equivalent; "
            f"{entry['tested']} tested of {entry['mutants']}: {score}"
        )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", help=f"any of: {', '.join(MODULES)} (default: all)")
    parser.add_argument(
        "--again",
        action="store_true",
        help="keep the last run's results; test what it did not reach and its survivors not listed as equivalent",
    )
    parser.add_argument(
        "--sample", type=int, help=f"test this many mutants of each module, drawn with seed {SEED} (default: all)"
    )
    parser.add_argument(
        "--report", action="store_true", help="only summarize the kept sessions again (after equivalent.toml changed)"
    )
    parser.add_argument("--lanes", type=int, default=2, help="modules mutated side by side (default 2)")
    args = parser.parse_args(argv)
    chosen: list[str] = list(dict.fromkeys(args.modules or MODULES))
    unknown = set(chosen) - set(MODULES)
    if unknown:
        parser.error(f"no such module: {', '.join(sorted(unknown))}")

    if args.report:
        command = " ".join([".venv/bin/python -m bench.mutation", *argv])
        write_results({m: report_only(m) for m in chosen}, command, reported=True)
        return 0

    sys.path.insert(0, str(ROOT))
    from dev import services

    # Stop cleanly on Ctrl-C and on `kill`, even when started in the background (which ignores SIGINT).
    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)

    with tempfile.TemporaryDirectory(prefix="flexledger-mutation-") as scratch:
        work = Path(scratch)
        work.chmod(0o755)
        with services(work / "servers", persist=False) as (database_url, redis_url, _):
            env = {
                **os.environ,
                "DATABASE_URL": os.environ.get("DATABASE_URL", database_url),
                "REDIS_URL": os.environ.get("REDIS_URL", redis_url),
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            }
            with ThreadPoolExecutor(max_workers=max(1, args.lanes)) as lanes:
                jobs = [lanes.submit(mutate, m, work, env, again=args.again, sample=args.sample) for m in chosen]
                try:
                    done: dict[str, dict[str, Any]] = {m: job.result() for m, job in zip(chosen, jobs, strict=True)}
                except BaseException:
                    stop_all()
                    lanes.shutdown(cancel_futures=True)
                    raise

    write_results(done, " ".join([".venv/bin/python -m bench.mutation", *argv]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
