"""Headless execution: run a notebook with papermill, or build the PDF with nbconvert.

Every output is written to a temporary file and renamed into place, so a failed run never
leaves a half-written target for Make to mistake as up to date.

    python -m fmnist_utils.pipeline notebook 02_mlp_baselines --profile quick
    python -m fmnist_utils.pipeline report --profile full
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from . import atomic, results
from .config import NOTEBOOKS_DIR, ROOT, get_profile

REPORT_NOTEBOOK = ROOT / "report" / "report.ipynb"
REPORT_TEMPLATE_DIR = ROOT / "report" / "template"
KERNEL = "python3"  # the kernel of the interpreter running papermill (the project's venv)


def execute(source: Path, target: Path, profile_name: str) -> float:
    """Execute ``source`` with papermill into ``target`` atomically; return wall seconds."""
    import papermill as pm

    os.environ["FMNIST_PROFILE"] = profile_name
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # the kernel inherits it: no C++ log noise
    start = time.perf_counter()
    with atomic.atomic_path(target, suffix=".ipynb") as tmp:
        try:
            pm.execute_notebook(str(source), str(tmp), parameters={"PROFILE": profile_name},
                                kernel_name=KERNEL, cwd=str(source.parent), progress_bar=False,
                                log_output=True)
        except pm.PapermillExecutionError as exc:
            raise SystemExit(f"\n{source.name} failed in cell {exc.exec_count} "
                             f"({exc.ename}: {exc.evalue}).\nThe partial output is not kept; rerun "
                             f"`make {source.stem} PROFILE={profile_name}` after fixing it.") from None
    return time.perf_counter() - start


def trained_artifacts(artifacts_dir: Path) -> set[str]:
    """Cached models and finished tuner trials: what a run adds tells how much it trained."""
    return {str(p) for pattern in ("models/*/meta.json", "tuner/*/trial_*/trial.json")
            for p in Path(artifacts_dir).glob(pattern)}


def run_notebook(name: str, profile_name: str) -> Path:
    profile = get_profile(profile_name)
    source = NOTEBOOKS_DIR / f"{name}.ipynb"
    if not source.is_file():
        raise SystemExit(f"No notebook {source}")
    target = profile.notebooks_out_dir / source.name
    before = trained_artifacts(profile.artifacts_dir)
    seconds = execute(source, target, profile.name)
    trained = len(trained_artifacts(profile.artifacts_dir) - before)
    results.record_notebook(profile.results_dir, profile.name, name, seconds, trained)
    print(f"{name}: executed in {seconds:.0f} s, {trained} models/trials trained -> {target.relative_to(ROOT)}")
    return target


def build_report(profile_name: str) -> Path:
    """Execute the report notebook, then convert it to PDF (inputs hidden) with our template."""
    from nbconvert import PDFExporter
    from traitlets.config import Config

    profile = get_profile(profile_name)
    executed = profile.notebooks_out_dir / "report.ipynb"
    execute(REPORT_NOTEBOOK, executed, profile.name)
    config = Config()
    config.TemplateExporter.exclude_input = True
    config.TemplateExporter.exclude_input_prompt = True
    config.TemplateExporter.exclude_output_prompt = True
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = {"notebook-only"}
    exporter = PDFExporter(config=config, extra_template_basedirs=[str(REPORT_TEMPLATE_DIR.parent)],
                           template_name=REPORT_TEMPLATE_DIR.name)
    pdf, _ = exporter.from_filename(str(executed))
    target = profile.report_dir / "report.pdf"
    atomic.write_bytes(target, pdf)
    print(f"report: {target.relative_to(ROOT)} ({len(pdf) / 1024:.0f} KiB)")
    return target


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Run the report's notebooks headless.")
    sub = parser.add_subparsers(dest="command", required=True)
    nb = sub.add_parser("notebook", help="execute notebooks/NAME.ipynb")
    nb.add_argument("name")
    rep = sub.add_parser("report", help="execute report/report.ipynb and build the PDF")
    for p in (nb, rep):
        p.add_argument("--profile", default=None, help="quick or full")
    args = parser.parse_args(argv)
    # papermill logs each cell's output at INFO: long runs show progress in their log file.
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("traitlets").setLevel(logging.WARNING)
    profile_name = get_profile(args.profile).name
    if args.command == "notebook":
        run_notebook(args.name, profile_name)
    else:
        build_report(profile_name)


if __name__ == "__main__":
    sys.exit(main())
