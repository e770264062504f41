"""Mutation checks of the core modules: do the fast tests fail when the code gives a wrong answer?

    python scripts/mutation_check.py deliberate            # the named bugs of issue 12, one at a time
    python scripts/mutation_check.py mutmut [GROUP ...]    # mutmut on each group, its fast tests only
    python scripts/mutation_check.py mutmut --before REV   # the same with the tests of git revision REV
    python scripts/mutation_check.py mutmut GROUP --only NAME...  # rerun some mutants (e.g. survivors)
    python scripts/mutation_check.py survivors GROUP       # the diff of each mutant that survived

Both work on scratch copies under $MUTATION_DIR (default: /tmp/textanchor-mutation); the
working tree is never modified. Not part of pytest: a mutmut run takes minutes to an hour per
group on two cores. Run it under `nice` on a shared machine; docs/testing.md has the figures.

`deliberate` applies each bug of DELIBERATE (a literal source edit) and runs the group's fast test
files; every bug must make them fail. A bug whose edit no longer applies is reported as such
(exit 2): the code moved on, so update its `old`/`new` text here.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRATCH = Path(os.environ.get("MUTATION_DIR", "/tmp/textanchor-mutation"))
COPY = ["textanchor", "tests", "assets", "checkpoints", "pyproject.toml", "app.py"]
FAST = ["-m", "not slow and not browser", "-p", "no:cacheprovider", "-q"]
GOLDEN_LIB = "tests/test_golden.py::test_golden_sample_reaches_the_recorded_accuracy"

# group -> (files mutmut mutates, the fast tests that guard them)
GROUPS = {
    "losses": (["textanchor/losses.py"], ["tests/test_losses.py", "tests/test_registries.py"]),
    "metrics": (["textanchor/metrics.py"], ["tests/test_metrics.py"]),
    "modalities": (["textanchor/modalities/*"],
                   ["tests/test_image_polarity.py", "tests/test_pictures.py", "tests/test_registries.py", GOLDEN_LIB]),
    "combine": (["textanchor/data/combine.py"], ["tests/test_recipes.py", "tests/test_data.py"]),
    "inputs": (["textanchor/demo/inputs.py"], ["tests/test_demo_inputs.py", "tests/test_image_polarity.py",
                                                "tests/test_user_inputs.py", "tests/test_decode_limits.py"]),
    # modalities/ one file at a time (the whole folder is ~650 mutants: most of an hour on two cores)
    "audio": (["textanchor/modalities/audio.py"], ["tests/test_modality_audio.py", "tests/test_registries.py"]),
    # every fast test file that prepares a picture: sketches and uploads reach picture.py through
    # demo/inputs.py (test_user_inputs), the image defaults are pinned in test_modality_base
    "image": (["textanchor/modalities/image.py"],
              ["tests/test_image_polarity.py", "tests/test_pictures.py", "tests/test_registries.py",
               "tests/test_modality_base.py", "tests/test_user_inputs.py", "tests/test_image_modality.py"]),
    "picture": (["textanchor/modalities/picture.py"],
                ["tests/test_image_polarity.py", "tests/test_pictures.py", "tests/test_registries.py",
                 "tests/test_user_inputs.py", "tests/test_picture_answers.py",
                 "tests/test_picture_decoding.py", "tests/test_picture_boundaries.py",
                 "tests/test_picture_lines.py"]),
    "base": (["textanchor/modalities/base.py"], ["tests/test_registries.py", "tests/test_modality_base.py"]),
}

# The unit-test files each group had before issue 12 (`mutmut --before REV` runs these, taken
# from REV, to measure what the new tests added).
BEFORE = {"losses": ["tests/test_registries.py"], "metrics": ["tests/test_metrics.py"],
          "modalities": ["tests/test_registries.py"], "combine": ["tests/test_data.py"],
          "inputs": ["tests/test_demo_inputs.py"], "audio": ["tests/test_registries.py"],
          "image": ["tests/test_registries.py"], "picture": ["tests/test_registries.py"],
          "base": ["tests/test_registries.py"]}

# name -> (file, old text, new text, group whose tests must catch it)
DELIBERATE = {
    "default loss pushes the wrong way (pull - w * infonce)": (
        "textanchor/losses.py", "return pull + self.weight * self.infonce(", "return pull - self.weight * self.infonce(",
        "losses"),
    "image polarity rule flipped": (
        "textanchor/modalities/picture.py", "paper - float(smooth.min()) > float(smooth.max()) - paper",
        "paper - float(smooth.min()) < float(smooth.max()) - paper", "modalities"),
    "retrieval rank without its 1 +": (
        "textanchor/metrics.py", "first = 1 + np.sum(", "first = np.sum(", "metrics"),
    "pooled labels not remapped onto the union of class names": (
        "textanchor/data/combine.py",
        "labels = np.concatenate([np.array([pos[s.class_names[y]] for y in s.labels], np.int64) for s in sets])",
        "labels = np.concatenate([np.asarray(s.labels, np.int64) for s in sets])", "combine"),
}


def scratch_copy(name: str) -> Path:
    """A fresh copy of the parts of the repository the tests need."""
    dst = SCRATCH / name
    shutil.rmtree(dst, ignore_errors=True)
    dst.mkdir(parents=True)
    for item in COPY:
        src = ROOT / item
        if src.is_dir():
            shutil.copytree(src, dst / item, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif src.exists():
            shutil.copy2(src, dst / item)
    return dst


def env_for(folder: Path) -> dict:
    """Import textanchor from the copy, one thread per process, offline."""
    return {**os.environ, "PYTHONPATH": str(folder), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "HF_HUB_OFFLINE": "1"}


def run_deliberate() -> int:
    results, code = [], 0
    for i, (name, (path, old, new, group)) in enumerate(DELIBERATE.items()):
        folder = scratch_copy(f"deliberate-{i}")
        src = (folder / path).read_text()
        if src.count(old) != 1:
            results.append((name, "EDIT NO LONGER APPLIES", f"{old!r} found {src.count(old)} times in {path}"))
            code = max(code, 2)
            continue
        (folder / path).write_text(src.replace(old, new))
        tests = GROUPS[group][1]
        t0 = time.time()
        p = subprocess.run([sys.executable, "-m", "pytest", *FAST, *tests], cwd=folder, env=env_for(folder),
                           capture_output=True, text=True)
        failed = re.findall(r"^FAILED (\S+)", p.stdout, re.M)
        verdict = f"caught by {len(failed)}" if p.returncode == 1 and failed else f"NOT CAUGHT (exit {p.returncode})"
        if not failed:
            code = max(code, 1)
        results.append((name, verdict, f"{', '.join(failed[:2]) or p.stdout.strip().splitlines()[-1:]}, ... "
                                       f"[{time.time() - t0:.0f} s, {' '.join(tests)}]"))
        shutil.rmtree(folder, ignore_errors=True)
    for name, verdict, detail in results:
        print(f"{verdict:>22}  {name}\n{'':>24}{detail}")
    return code


def mutmut_config(paths: list[str], tests: list[str]) -> str:
    quoted = lambda xs: "[" + ", ".join(f'"{x}"' for x in xs) + "]"  # noqa: E731
    return (
        "\n[tool.mutmut]\n"
        f"source_paths = [\"textanchor\"]\n"
        f"only_mutate = {quoted(paths)}\n"
        f"pytest_add_cli_args_test_selection = {quoted(tests)}\n"
        f"pytest_add_cli_args = {quoted(FAST[:4])}\n"
        "also_copy = [\"assets\", \"checkpoints\", \"app.py\"]\n"
        "use_git_change_detection = false\n"
    )


def run_mutmut(groups: list[str], before: str | None = None, only: list[str] | None = None) -> int:
    """`only`: mutant names or fnmatch patterns (`mutmut results` lists them), e.g. the survivors
    of an earlier run, to rerun just those after new tests."""
    for group in groups:
        paths, tests = GROUPS[group]
        folder = scratch_copy(f"mutmut-{group}" + ("-before" if before else ""))
        if before:  # that revision's tests against today's code
            tests = BEFORE[group]
            shutil.rmtree(folder / "tests")
            archive = subprocess.run(["git", "archive", before, "tests"], cwd=ROOT, capture_output=True, check=True)
            subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
        tests = [t for t in tests if (folder / t.split("::")[0]).exists()]  # a file this revision lacks
        with open(folder / "pyproject.toml", "a") as f:
            f.write(mutmut_config(paths, tests))
        # mutmut's workers run in mutants/ and drop the current folder from sys.path, after which
        # an editable install of textanchor would win; a link from a third folder keeps the
        # mutated package first.
        (folder / "pathshim").mkdir()
        (folder / "pathshim" / "textanchor").symlink_to(Path("..") / "mutants" / "textanchor")
        t0 = time.time()
        log = folder / "mutmut.log"
        with open(log, "w") as out:
            subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", "2", *(only or [])], cwd=folder,
                           env=env_for(folder / "pathshim"), stdout=out, stderr=subprocess.STDOUT)
        print(f"== {group}: {', '.join(paths)} against {' '.join(tests)} ({time.time() - t0:.0f} s)")
        print(summary(folder))
    return 0


def results_of(folder: Path) -> dict[str, str]:
    p = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], cwd=folder,
                       env=env_for(folder / "pathshim"), capture_output=True, text=True)
    out = {}
    for line in p.stdout.splitlines():
        m = re.match(r"\s*(\S+): (\S.*)$", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
    return out


def summary(folder: Path) -> str:
    res = results_of(folder)
    counts: dict[str, int] = {}
    for status in res.values():
        counts[status] = counts.get(status, 0) + 1
    return f"   {len(res)} mutants: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def show_survivors(group: str) -> int:
    folder = SCRATCH / f"mutmut-{group}"
    if not (folder / "mutants").is_dir():
        print(f"no mutmut run in {folder}: run `mutmut {group.removesuffix('-before')}` first")
        return 1
    for name, status in results_of(folder).items():
        if status == "survived":
            p = subprocess.run([sys.executable, "-m", "mutmut", "show", name], cwd=folder,
                               env=env_for(folder / "pathshim"), capture_output=True, text=True)
            print(p.stdout)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("deliberate")
    m = sub.add_parser("mutmut")
    m.add_argument("groups", nargs="*", help=f"some of {', '.join(GROUPS)} (default: all)")
    m.add_argument("--before", metavar="REV", help="use the tests of git revision REV (see BEFORE)")
    m.add_argument("--only", nargs="+", metavar="NAME", help="only these mutants (names or fnmatch patterns)")
    s = sub.add_parser("survivors")
    s.add_argument("group", choices=list(GROUPS))
    s.add_argument("--before", action="store_true", help="the survivors of a `mutmut --before` run")
    a = ap.parse_args(argv)
    if a.cmd == "deliberate":
        return run_deliberate()
    if a.cmd == "mutmut":
        unknown = set(a.groups) - set(GROUPS)
        if unknown:
            ap.error(f"unknown group(s) {sorted(unknown)}; groups: {', '.join(GROUPS)}")
        return run_mutmut(a.groups or list(GROUPS), a.before, a.only)
    return show_survivors(a.group + ("-before" if a.before else ""))


if __name__ == "__main__":
    sys.exit(main())
