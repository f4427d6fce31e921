"""aatcp tasks (invoke). Thin: parse arguments, call the aatcp package.

Run them through the bootstrap script, which creates the virtualenv first:
    ./inv --list
    ./inv setup build lab.up experiment fig4_1
    ./inv test
"""

from __future__ import annotations

import shutil
from pathlib import Path

from invoke import Collection, task
from invoke.exceptions import Exit

from aatcp.cli import OptionalNameTask, friendly, lab_path

HOSTS_HELP = "lab file (default: labs/local.yml, the local lab)"


@task
@friendly
def setup(c):
    """Install the Debian packages (needs root) and Python dependencies. Idempotent."""
    from aatcp import system

    system.setup()


@task(help={"debug": "debug build in build-debug/",
            "sanitize": "ASan+UBSan build in build-asan/ (the one the C tests run in)",
            "fuzz": "libFuzzer targets with clang in build-fuzz/",
            "native": "release build with -march=native",
            "jobs": "parallel compile jobs (default: ninja's choice)",
            "reconfigure": "re-apply the meson options to an existing build folder",
            "features": "core|zc|aa|fwd|all (default all): thesis features to compile; "
                        "fewer than all build in their own folder, e.g. build-core/"})
@friendly
def build(c, debug=False, sanitize=False, fuzz=False, native=False, jobs=0, reconfigure=False,
          features="all"):
    """Build the C code with meson + ninja (release in build/ by default)."""
    from aatcp.build import build as do_build

    kinds = [k for k, on in (("debug", debug), ("sanitize", sanitize), ("fuzz", fuzz)) if on]
    for kind in kinds or ["release"]:
        do_build(kind, native=native, jobs=jobs, reconfigure=reconfigure, features=features)


@task(help={"only": "comma-separated stages: ruff,layers,c,core,py (default: all)",
            "pytest-args": "extra pytest arguments, e.g. \"-k lab -x\"",
            "no-build": "skip setup and build (run the checks on what is built)"})
@friendly
def test(c, only="", pytest_args="", no_build=False):
    """Run the whole test suite: setup + build (release, ASan, core-only), ruff, the layer
    check, C tests (ASan, then the core-only build), pytest."""
    import shlex

    from aatcp import checks, system
    from aatcp.build import build as do_build

    stages = [s.strip() for s in only.split(",") if s.strip()] or list(checks.STAGES)
    unknown = set(stages) - set(checks.STAGES)
    if unknown:
        raise Exit(f"error: unknown stage(s) {sorted(unknown)}: use {','.join(checks.STAGES)}")
    if not no_build:
        system.setup()
        do_build("release")
        do_build("sanitize")
        if "core" in stages:
            do_build("debug", features="core")
    rc = checks.run(stages, shlex.split(pytest_args))
    if rc:
        raise Exit(code=rc)


@task(help={"out": "folder to write the series to (default: patches/)"})
@friendly
def patches(c, out=None):
    """Write the feature patch series (zero-copy receive, records, forwarding) to patches/."""
    from aatcp import patches as pt

    pt.generate(Path(out) if out else pt.PATCHES_DIR)


@task(help={"file": "one description to compile (default: every formats/*.fmt)",
            "out": "output folder (default: build/formats/)",
            "check": "only check the descriptions, write nothing"})
@friendly
def formats(c, file=None, out=None, check=False):
    """Compile record format descriptions into C modules: build/formats/fmt_NAME.{c,h}."""
    from aatcp import formats as fmt

    try:
        for line in fmt.run(Path(file) if file else None, Path(out) if out else None, check):
            print(line)
    except fmt.FormatError as e:
        raise Exit(str(e), code=1) from None


# ---------------------------------------------------------------- lab


@task(help={"hosts": HOSTS_HELP})
@friendly
def lab_up(c, hosts=None):
    """Bring the local lab up: namespaces, veth links, bridge, sshd per host (idempotent)."""
    from aatcp import netlab
    from aatcp.lab import Lab
    from aatcp.labfile import load_lab_spec

    spec = load_lab_spec(lab_path(hosts))
    netlab.up(spec)
    with Lab(spec) as lab:
        print(netlab.format_status(lab))


@task(help={"hosts": HOSTS_HELP,
            "workdirs": "also delete the hosts' workdirs (what deploy and experiments wrote)"})
@friendly
def lab_down(c, hosts=None, workdirs=False):
    """Remove everything lab.up made (namespaces, links, sshd, keys), even after a crash."""
    from aatcp import netlab
    from aatcp.labfile import load_lab_spec

    spec = load_lab_spec(lab_path(hosts))
    removed = netlab.down(spec)
    if workdirs:
        removed += netlab.remove_workdirs(spec)
    print("lab.down: removed " + (", ".join(removed) if removed else "nothing (was down)"))
    left = netlab.workdirs(spec)
    if left:
        again = f" --hosts {hosts}" if hosts else ""
        print(f"lab.down: left the hosts' workdirs {', '.join(map(str, left))} (deployed "
              f"binaries, run files); `./inv lab.down{again} --workdirs` deletes them")


@task(help={"hosts": HOSTS_HELP})
@friendly
def lab_status(c, hosts=None):
    """Show the lab's hosts, links and whether SSH answers."""
    from aatcp import netlab
    from aatcp.lab import load_lab

    with load_lab(lab_path(hosts)) as lab:
        st = netlab.status(lab)
        print(netlab.format_status(lab, st))
    silent = [h.name for h in st[0] if not h.ssh_answers]
    if silent:
        raise Exit(f"error: {len(silent)} of {len(st[0])} hosts do not answer over SSH: "
                   f"{', '.join(silent)} (why: above)", code=1)


lab = Collection("lab")
lab.add_task(lab_up, "up")
lab.add_task(lab_down, "down")
lab.add_task(lab_status, "status")


# ---------------------------------------------------------------- deploy / experiments


@task(help={"hosts": HOSTS_HELP, "build-dir": "build folder to ship (default: build/)",
            "force": "upload even files whose build-id already matches"})
@friendly
def deploy(c, hosts=None, build_dir=None, force=False):
    """Ship binaries and configs to every host over SSH; verify build-ids."""
    from aatcp.deploy import deploy as do_deploy
    from aatcp.deploy import format_report
    from aatcp.lab import load_lab

    with load_lab(lab_path(hosts)) as the_lab:
        rep = do_deploy(the_lab, Path(build_dir) if build_dir else None, force=force)
        print(format_report(rep))


@task(klass=OptionalNameTask, positional=["name"],
      help={"name": "experiment (module in experiments/), or `all`",
            "list": "list the experiments", "hosts": HOSTS_HELP,
            "quick": "tiny sweep and one repetition (smoke test)",
            "no-deploy": "do not deploy before running",
            "build-dir": "build folder to deploy (default: build/)",
            "results": "results folder (default: results/)"})
@friendly
def experiment(c, name=None, list_=False, hosts=None, quick=False, no_deploy=False,
               build_dir=None, results=None):
    """Run an experiment on the lab: results/NAME/{data.csv,meta.json,figure.png}."""
    from aatcp import runner

    if list_:
        print(runner.format_list())
        return
    names = runner.list_experiments() if name == "all" else [name]
    for n in names:
        runner.load_experiment(n)  # unknown or broken modules fail here, before any run
    summaries = runner.run_many(names, lab=lab_path(hosts), quick=quick,
                                do_deploy=not no_deploy,
                                build_dir=Path(build_dir) if build_dir else None,
                                results_root=Path(results) if results else None)
    bad = 0
    for s in summaries:
        print(f"{s.name}: {s.ok}/{s.total} runs ok, {s.failed} failed -> {s.results_dir}")
        for e in s.errors[:10]:
            print(f"  {e}")
        if s.total == 0 or s.ok == 0:
            bad += 1
    if bad:
        raise Exit(f"error: {bad} experiment(s) produced no successful run", code=1)


@task(positional=["name"], help={"name": "experiment to re-plot",
                                 "results": "results folder (default: results/)"})
@friendly
def plot(c, name, results=None):
    """Re-draw results/NAME/figure.png from its data.csv (runs nothing)."""
    from aatcp import runner

    print(runner.replot(name, Path(results) if results else None))


@task(help={"results": "results folder (default: results/)"})
@friendly
def report(c, results=None):
    """Build REPORT.md and report.html (figures embedded) from a results folder."""
    from aatcp.report import build as build_report

    md, page = build_report(Path(results) if results else None)
    print(f"report: {md}\nreport: {page}")


@task(help={"results": "also delete results/*/ (keeps results/README.md)",
            "lab": "also bring the local lab down and delete its hosts' workdirs"})
@friendly
def clean(c, results=False, lab=False):
    """Delete build folders and caches (and optionally results and the local lab)."""
    from aatcp.paths import BUILD_DIRS, REPO_ROOT, RESULTS_DIR

    if lab:
        from aatcp import netlab
        from aatcp.labfile import load_lab_spec

        spec = load_lab_spec(lab_path(None))
        netlab.down(spec)
        for what in netlab.remove_workdirs(spec):
            print(f"clean: removed {what}")
    targets = [*BUILD_DIRS.values(), REPO_ROOT / ".pytest_cache", REPO_ROOT / ".ruff_cache"]
    if results:
        targets += [p for p in RESULTS_DIR.iterdir() if p.is_dir()]
    for p in targets:
        if p.exists():
            shutil.rmtree(p)
            print(f"clean: removed {p}")


ns = Collection(setup, build, test, patches, formats, deploy, experiment, plot, report, clean, lab)
