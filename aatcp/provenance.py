"""What made a result: git commit (GitPython), build-ids (pyelftools), hosts, date."""

from __future__ import annotations

import datetime as dt
import platform
import sys
from pathlib import Path
from typing import Any

import git

from aatcp import __version__
from aatcp.elf import build_id, exported_functions
from aatcp.paths import REPO_ROOT

OUTPUT_DIR = "results/"  # experiments write here: a change under it is output, not input


def source_changes(changed_files: list[str]) -> list[str]:
    """The changed tracked files that can change a measurement: all but the
    results the experiments themselves write (a run into results/reference
    dirties the tree with its own output as it goes)."""
    return [f for f in changed_files if not f.startswith(OUTPUT_DIR)]


def git_info(repo_dir: Path = REPO_ROOT) -> dict[str, Any]:
    """Commit, branch and whether tracked files other than results differ
    from it (dirty)."""
    try:
        repo = git.Repo(repo_dir, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return {"commit": None, "dirty": None, "error": f"{repo_dir} is not a git repository"}
    try:
        commit = repo.head.commit.hexsha
    except ValueError:  # no commit yet
        commit = None
    try:
        branch = repo.active_branch.name
    except TypeError:  # detached HEAD
        branch = None
    changed = [d.a_path for d in repo.index.diff(None)]
    if commit is not None:
        changed += [d.a_path for d in repo.index.diff("HEAD")]
    changed = sorted(set(changed))
    return {
        "commit": commit,
        "branch": branch,
        "dirty": bool(source_changes(changed)),
        "changed_files": changed,
        "untracked_files": len(repo.untracked_files),
    }


def build_ids(paths: dict[str, Path]) -> dict[str, str | None]:
    return {name: build_id(p) for name, p in paths.items()}


def library_api(lib: Path) -> list[str]:
    """The mtcp_* functions the deployed libaatcp exports."""
    return exported_functions(lib, prefix="mtcp_") if lib.exists() else []


def local_facts() -> dict[str, Any]:
    return {
        "controller": platform.node(),
        "python": sys.version.split()[0],
        "toolkit": __version__,
    }


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
