"""The fonts a PDF embeds: matplotlib's default Type 3 fonts are refused by some publishers."""
from __future__ import annotations

import re
import zlib
from pathlib import Path

__all__ = ["assert_truetype_only", "pdf_font_subtypes"]


def pdf_font_subtypes(data: bytes) -> set[str]:
    """Every ``/Subtype /X`` of a PDF, searched in the raw file and in every Flate-compressed stream
    (so font dictionaries inside compressed object streams are found too)."""
    chunks = [data]
    for m in re.finditer(rb"stream\r?\n", data):
        end = data.find(b"endstream", m.end())
        try:
            chunks.append(zlib.decompressobj().decompress(data[m.end():end]))
        except zlib.error:
            pass  # not Flate (an image, say)
    return {s.decode() for c in chunks for s in re.findall(rb"/Subtype\s*/([A-Za-z0-9]+)", c)}


def assert_truetype_only(path: Path) -> None:
    """The PDF at ``path`` embeds a TrueType font and no Type 3 font."""
    kinds = pdf_font_subtypes(path.read_bytes())
    assert "Type3" not in kinds, f"{path.name}: Type 3 font embedded ({sorted(kinds)})"
    assert kinds & {"TrueType", "CIDFontType2"}, f"{path.name}: no TrueType font found ({sorted(kinds)})"
