"""`./inv deploy`: ship the built binaries to every host of a lab over SSH.

For each host, in parallel:
  <workdir>/bin/   executables of build/apps and build/benchmarks (flattened)
  <workdir>/lib/   libaatcp.so* (the real file plus its soname symlinks)
  <workdir>/conf/  stack.conf rendered from the lab file (dut hosts)
  <workdir>/run/   logs of background processes (aatcp.remote.Host.start)
  <workdir>/manifest.json   file -> build-id of what was shipped

A file is uploaded only when the build-id of the copy on the host differs from
the local one, so deploying again is cheap. After upload, every shipped ELF is
read back over SFTP and its build-id parsed locally with pyelftools: a deploy
that reports success put exactly these binaries on the host.
"""

from __future__ import annotations

import json
import posixpath
import stat
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from fabric import ThreadingGroup
from fabric.exceptions import GroupException

from aatcp.elf import build_id, build_id_of_stream
from aatcp.errors import ToolkitError
from aatcp.lab import Lab
from aatcp.paths import BUILD_DIRS
from aatcp.remote import Host

Log = Callable[[str], None]


@dataclass(frozen=True)
class Artifact:
    local: Path
    remote: str          # relative to the workdir, e.g. "bin/fig4_1"
    build_id: str | None
    mode: int


@dataclass
class HostReport:
    host: str
    uploaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    verified: dict[str, str] = field(default_factory=dict)  # remote path -> build-id
    notes: list[str] = field(default_factory=list)


@dataclass
class DeployReport:
    build_dir: Path
    artifacts: list[Artifact]
    hosts: dict[str, HostReport]

    @property
    def build_ids(self) -> dict[str, str | None]:
        return {a.remote: a.build_id for a in self.artifacts}


def _elf_kind(path: Path) -> str | None:
    """'exec' for executables (incl. PIE), 'lib' for shared libraries, None otherwise."""
    try:
        with open(path, "rb") as f:
            if f.read(4) != b"\x7fELF":
                return None
            f.seek(0)
            elf = ELFFile(f)
            if elf["e_type"] == "ET_EXEC":
                return "exec"
            if elf["e_type"] != "ET_DYN":
                return None
            # A PIE executable has an interpreter; a shared library has none.
            return "exec" if any(s["p_type"] == "PT_INTERP" for s in elf.iter_segments()) \
                else "lib"
    except (OSError, ELFError):
        return None


def _walk(root: Path) -> list[Path]:
    out = []
    if not root.is_dir():
        return out
    for p in sorted(root.rglob("*")):
        # meson's private folders (*.p) hold objects, not products.
        if any(part.endswith(".p") for part in p.relative_to(root).parts):
            continue
        if p.is_file() and not p.is_symlink():
            out.append(p)
    return out


def collect_artifacts(build_dir: Path) -> tuple[list[Artifact], list[tuple[str, str]]]:
    """What to ship from `build_dir`: (artifacts, symlinks as (link, target) in lib/)."""
    if not (build_dir / "build.ninja").exists():
        raise ToolkitError(f"{build_dir}: no build here. Fix: `./inv build` (or pass the build "
                           "folder you built)")
    arts: list[Artifact] = []
    seen: dict[str, Path] = {}
    for sub in ("apps", "benchmarks"):
        for p in _walk(build_dir / sub):
            if not p.stat().st_mode & stat.S_IXUSR or _elf_kind(p) != "exec":
                continue
            remote = f"bin/{p.name}"
            if remote in seen:
                raise ToolkitError(f"{p} and {seen[remote]} would both deploy as {remote}. "
                                   "Fix: give one of the executables another name")
            seen[remote] = p
            arts.append(Artifact(p, remote, build_id(p), 0o755))
    links: list[tuple[str, str]] = []
    for p in sorted((build_dir / "src").glob("libaatcp.so*")):
        if p.is_symlink():
            links.append((f"lib/{p.name}", Path(p.readlink()).name))
        elif p.is_file() and _elf_kind(p) == "lib":
            arts.append(Artifact(p, f"lib/{p.name}", build_id(p), 0o755))
    missing = [a.remote for a in arts if a.build_id is None]
    if missing:
        raise ToolkitError(f"{build_dir}: no GNU build-id in {', '.join(missing)}, so a deploy "
                           "could not be verified. Fix: link with -Wl,--build-id")
    return arts, links


def _remote_build_id(host: Host, path: PurePosixPath) -> str | None:
    sftp = host.sftp()
    try:
        with sftp.open(str(path), "rb") as f:
            return build_id_of_stream(f)
    except OSError:
        return None


def _deploy_host(lab: Lab, host: Host, arts: list[Artifact], links: list[tuple[str, str]],
                 force: bool, log: Log) -> HostReport:
    rep = HostReport(host.name)
    wd = host.workdir
    host.run(f"mkdir -p {wd}/bin {wd}/lib {wd}/conf {wd}/run", timeout=30, cwd="/")
    for a in arts:
        dst = wd / a.remote
        if not force and _remote_build_id(host, dst) == a.build_id:
            rep.unchanged.append(a.remote)
            continue
        # Upload beside, then rename: replacing a running executable in place
        # would fail (ETXTBSY) or corrupt it; a rename swaps the inode.
        tmp = dst.with_name(f".{dst.name}.tmp")
        host.put(a.local, tmp, mode=a.mode)
        host.sftp().posix_rename(str(tmp), str(dst))
        rep.uploaded.append(a.remote)
    for link, target in links:
        lp = wd / link
        host.run(f"ln -sfn {posixpath.basename(target)} {lp}", timeout=30)
    for a in arts:
        got = _remote_build_id(host, wd / a.remote)
        if got != a.build_id:
            raise ToolkitError(f"{host.name}: {wd / a.remote} has build-id {got}, expected "
                               f"{a.build_id} ({a.local}). Fix: deploy again with --force; is "
                               "something else writing this workdir?")
        rep.verified[str(wd / a.remote)] = got
    manifest = {a.remote: a.build_id for a in arts}
    host.write_file(wd / "manifest.json", json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    _check_libraries(host, arts, rep)
    if host.role == "dut" and host.spec.ports:
        host.write_file(wd / "conf" / "stack.conf", lab.stack_config(host.name))
        _prepare_dpdk(host, rep, log)
    return rep


def _check_libraries(host: Host, arts: list[Artifact], rep: HostReport) -> None:
    """Every shipped executable must find its shared libraries on the host."""
    exes = [str(host.workdir / a.remote) for a in arts if a.remote.startswith("bin/")]
    if not exes:
        return
    r = host.run("for f in " + " ".join(exes) + "; do ldd $f | sed -n "
                 "\"s|^[[:space:]]*\\([^ ]*\\) => not found|$f: \\1|p\"; done",
                 timeout=60, check=False)
    missing = r.stdout.strip()
    if missing:
        msg = (f"{host.name}: shared libraries not found:\n  " + missing.replace("\n", "\n  ")
               + "\nFix: install DPDK there (Debian: apt-get install dpdk)")
        if host.role == "dut":
            raise ToolkitError(msg)
        rep.notes.append(msg)


def _prepare_dpdk(host: Host, rep: HostReport, log: Log) -> None:
    spec = host.spec
    if spec.dpdk.hugepages > 0:
        n = spec.dpdk.hugepages
        host.run(f"cur=$(cat /proc/sys/vm/nr_hugepages); [ $cur -ge {n} ] || "
                 f"echo {n} > /proc/sys/vm/nr_hugepages; "
                 "mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages",
                 timeout=60)
        got = int(host.run("cat /proc/sys/vm/nr_hugepages", timeout=10).stdout.strip() or 0)
        if got < n:
            raise ToolkitError(f"{host.name}: asked for {n} hugepages, the kernel gave {got}. "
                               "Fix: reserve them at boot (hugepages= on the kernel command "
                               "line) or lower dpdk.hugepages in the lab file")
        rep.notes.append(f"hugepages: {got}")
    else:
        rep.notes.append("DPDK runs with --no-huge")
    pci = [p for p in spec.ports if p.is_pci]
    if not pci:
        rep.notes.append("no PCI ports to bind (virtual devices)")
        return
    drv = spec.dpdk.driver
    host.run(f"modprobe {drv}", timeout=60)
    for p in pci:
        dev = p.device if p.device.count(":") == 2 else f"0000:{p.device}"
        cur = host.run(f"basename $(readlink /sys/bus/pci/devices/{dev}/driver) 2>/dev/null",
                       timeout=10, check=False).stdout.strip()
        if cur == drv:
            rep.notes.append(f"{dev} already bound to {drv}")
            continue
        log(f"deploy: {host.name}: binding {dev} ({p.name}) to {drv}")
        host.run(f"dpdk-devbind.py --force -b {drv} {dev}", timeout=60)
        rep.notes.append(f"{dev} bound to {drv}")


def _preflight(hosts: list[Host]) -> None:
    """The same check on every host at once (Fabric ThreadingGroup)."""
    group = ThreadingGroup.from_connections([h.connection() for h in hosts])
    by_conn = {id(h.connection()): h for h in hosts}
    try:
        group.run("for t in sh timeout setsid ldd cut; do command -v $t >/dev/null || "
                  "{ echo \"missing: $t\" >&2; exit 1; }; done", hide=True, in_stream=False)
    except GroupException as e:
        problems = []
        for conn, res in e.result.items():
            h = by_conn.get(id(conn))
            name = h.name if h else conn.host
            detail = getattr(res, "stderr", None) or str(res)
            problems.append(f"{name}: {detail.strip()}")
        raise ToolkitError("deploy: hosts not ready:\n  " + "\n  ".join(problems)
                           + "\nFix: install coreutils/util-linux/libc-bin there") from None


def require_ssh(hosts: list[Host], what: str) -> None:
    """Fail early when SSH does not answer, naming every such host and why."""
    def problem(h: Host) -> str | None:
        try:
            h.connection()
        except ToolkitError as e:
            return str(e)
        return None

    with ThreadPoolExecutor(max_workers=max(1, len(hosts))) as pool:
        problems = [p for p in pool.map(problem, hosts) if p is not None]
    if problems:
        raise ToolkitError(f"{what}: {len(problems)} of {len(hosts)} hosts cannot be reached "
                           "over SSH:\n  " + "\n  ".join(problems))


def deploy(lab: Lab, build_dir: Path | None = None, force: bool = False,
           hosts: list[str] | None = None, log: Log = print) -> DeployReport:
    """Deploy `build_dir` (default build/) to the lab's hosts; returns what was done."""
    bdir = build_dir or BUILD_DIRS["release"]
    arts, links = collect_artifacts(bdir)
    targets = [lab.host(n) for n in hosts] if hosts else list(lab.hosts.values())
    require_ssh(targets, "deploy")
    _preflight(targets)
    reports: dict[str, HostReport] = {}
    with ThreadPoolExecutor(max_workers=len(targets)) as pool:
        futs = {h.name: pool.submit(_deploy_host, lab, h, arts, links, force, log)
                for h in targets}
        errors = []
        for name, fut in futs.items():
            try:
                reports[name] = fut.result()
            except ToolkitError as e:
                errors.append(str(e))
            except Exception as e:
                errors.append(f"{name}: {type(e).__name__}: {e}")
    if errors:
        raise ToolkitError("deploy failed:\n" + "\n".join(errors))
    return DeployReport(bdir, arts, reports)


def format_report(rep: DeployReport) -> str:
    lines = [f"deployed {len(rep.artifacts)} files from {rep.build_dir}"]
    for name, hr in rep.hosts.items():
        lines.append(f"  {name}: {len(hr.uploaded)} uploaded, {len(hr.unchanged)} unchanged, "
                     f"{len(hr.verified)} build-ids verified" +
                     (f"; {'; '.join(hr.notes)}" if hr.notes else ""))
    return "\n".join(lines)
