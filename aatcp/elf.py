"""ELF facts with pyelftools: GNU build-id, and whether a file is an ELF at all."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

ELF_MAGIC = b"\x7fELF"


def is_elf(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == ELF_MAGIC
    except OSError:
        return False


def build_id_of_stream(stream: BinaryIO) -> str | None:
    """Hex GNU build-id of the ELF in `stream` (seekable; a local or SFTP file)."""
    try:
        elf = ELFFile(stream)
        for seg in elf.iter_segments():
            if seg["p_type"] != "PT_NOTE":
                continue
            for note in seg.iter_notes():
                if note["n_type"] == "NT_GNU_BUILD_ID":
                    return str(note["n_desc"])
    except ELFError:
        return None
    return None


def build_id(path: str | Path) -> str | None:
    with open(path, "rb") as f:
        return build_id_of_stream(f)


def exported_functions(path: str | Path, prefix: str = "") -> list[str]:
    """Names of the global functions a shared library exports (e.g. prefix 'mtcp_')."""
    names: set[str] = set()
    with open(path, "rb") as f:
        elf = ELFFile(f)
        dynsym = elf.get_section_by_name(".dynsym")
        if dynsym is None:
            return []
        for sym in dynsym.iter_symbols():
            if (sym["st_info"]["type"] == "STT_FUNC" and sym["st_info"]["bind"] == "STB_GLOBAL"
                    and sym["st_shndx"] != "SHN_UNDEF" and sym.name.startswith(prefix)):
                names.add(sym.name)
    return sorted(names)
