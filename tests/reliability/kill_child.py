"""The child process the kill harness runs (and kills): one materialisation of a scenario.

    python -m tests.reliability.kill_child SCENARIO WORKDIR RUN_ID [--kill POINT] [--record FILE]

With ``--kill trace:...`` it kills itself at that point; with ``--record FILE`` it writes every
trace point it reached to FILE (JSON). It prints its :class:`RunReport` as JSON when it finishes.
It imports the lake modules only (no Dagster), so it starts in well under a second.
"""

import argparse
import json
from pathlib import Path

from platform_lib.contracts.registry import project_registry
from tests.child_exit import exit_now
from tests.reliability.kill_points import EventCounter, Phase, Tracer, kill_self
from tests.reliability.kill_scenarios import (
    PROJECT_ROOT,
    Scenario,
    ingest_raw,
    publish_curated,
    settings_for,
)


def main(argv: list[str] | None = None) -> int:
    """Run one materialisation, traced when a trace point is to be killed or recorded."""
    parser = argparse.ArgumentParser(prog="kill_child")
    parser.add_argument("scenario", type=Scenario)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("run_id")
    parser.add_argument("--kill", help="a point id, e.g. 'trace:return committer.py:write_table#1'")
    parser.add_argument("--record", type=Path, help="write the trace points reached here")
    args = parser.parse_args(argv)
    settings = settings_for(args.workdir)
    project_registry(PROJECT_ROOT)  # contracts parsed before tracing starts
    target = args.kill if args.kill and args.kill.startswith("trace:") else None
    traced = target is not None or args.record is not None
    counter = EventCounter("trace", target, kill_self)
    tracer = Tracer(counter)
    if traced:
        with tracer.installed():
            files = ingest_raw(settings)
            tracer.stage = Phase.CURATED_PUBLISH
            report = publish_curated(
                args.scenario, settings, run_id=args.run_id, files_ingested=files
            )
    else:
        files = ingest_raw(settings)
        report = publish_curated(args.scenario, settings, run_id=args.run_id, files_ingested=files)
    if args.record is not None:
        args.record.write_text(json.dumps([p.model_dump(mode="json") for p in counter.recorded]))
    print(report.model_dump_json())
    return 0


if __name__ == "__main__":
    exit_now(main())
