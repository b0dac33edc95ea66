"""Hostile .qdpx files: refused by declared sizes, ratio and entry counts, and guarded while reading.

Memory is measured, not assumed: tracemalloc's peak in-process, and the maximum resident set size of a
fresh interpreter that reads the bomb (declared sizes can lie; the child's RSS counts what C code holds too).
"""

from __future__ import annotations

import base64
import json
import os
import struct
import subprocess
import sys
import textwrap
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest

from toolkit.errors import InputDataError
from toolkit.exchange.refi import ZipLimits, read_qdpx, validate

MiB = 1024 * 1024
REPO = Path(__file__).resolve().parents[2]
PROJECT = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="urn:QDA-XML:project:1.0" name="p">'
    b'<Sources><TextSource guid="00000000-0000-0000-0000-000000000001" name="a" '
    b'plainTextPath="internal://00000000-0000-0000-0000-000000000001.txt"/></Sources></Project>'
)


def _zeros_stream(size: int) -> bytes:
    """A raw deflate stream of ``size`` zero bytes, built fast: identical fully flushed blocks repeat."""
    block = 16 * MiB
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = co.compress(b"\0" * block) + co.flush(zlib.Z_FULL_FLUSH)
    again = co.compress(b"\0" * block) + co.flush(zlib.Z_FULL_FLUSH)  # no dictionary carried over: same bytes
    n, rest = divmod(size, block)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    return first + again * max(n - 1, 0) + (tail.compress(b"\0" * rest) if rest else b"") + tail.flush()


def _raw_zip(path: Path, entries: list[tuple[str, bytes, int, int]]) -> Path:
    """A zip written by hand: (name, deflated bytes, declared size, crc) per entry, sizes as declared."""
    out, directory = bytearray(), bytearray()
    for name, data, size, crc in entries:
        raw_name = name.encode()
        offset = len(out)
        out += struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(data), size, len(raw_name), 0)
        out += raw_name + data
        directory += struct.pack(
            "<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crc, len(data), size, len(raw_name), 0, 0, 0, 0, 0,
            offset,
        )
        directory += raw_name
    start = len(out)
    out += directory
    out += struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory), start, 0)
    path.write_bytes(bytes(out))
    return path


def _deflate(data: bytes) -> bytes:
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    return co.compress(data) + co.flush()


def _peak(call) -> int:
    """tracemalloc's peak (bytes) while ``call`` runs."""
    tracemalloc.start()
    try:
        call()
    except InputDataError:
        pass
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak


@pytest.fixture
def bomb(tmp_path) -> Path:
    """A 3 MB .qdpx whose project.qde declares (honestly) 3.2 GB of zeros: the issue's bomb."""
    size = 200 * 16 * MiB
    stream = _zeros_stream(size)
    return _raw_zip(tmp_path / "bomb.qdpx", [("project.qde", stream, size, 0)])


def test_a_bomb_is_refused_by_its_declared_size_before_anything_is_decompressed(bomb):
    assert bomb.stat().st_size < 4 * MiB
    with pytest.raises(InputDataError, match=r"bomb\.qdpx: refused: project\.qde expands to 3,355,443,200 bytes.*limit"):
        read_qdpx(bomb)
    assert _peak(lambda: read_qdpx(bomb)) < 2 * MiB
    with pytest.raises(InputDataError, match="refused"):
        validate(bomb, "qdpx", __file__)  # refused before the schema is even needed


def test_a_bomb_within_the_size_limit_is_refused_by_its_ratio(tmp_path):
    size = 64 * MiB
    path = _raw_zip(tmp_path / "ratio.qdpx", [("project.qde", _zeros_stream(size), size, 0)])
    with pytest.raises(InputDataError, match=r"project\.qde expands [\d,]+ times .*zip bomb"):
        read_qdpx(path)
    assert _peak(lambda: read_qdpx(path)) < 2 * MiB


def test_declared_sizes_that_lie_are_caught_while_reading(tmp_path):
    # The directory says 200 bytes; the stream holds 256 MB. Reading stops at what was declared.
    stream = _zeros_stream(256 * MiB)
    path = _raw_zip(tmp_path / "liar.qdpx", [("project.qde", stream, 200, 0)])
    with pytest.raises(InputDataError, match=r"liar\.qdpx: the entry project\.qde inside the zip is damaged"):
        read_qdpx(path)
    assert _peak(lambda: read_qdpx(path)) < 4 * MiB


def test_a_source_file_over_the_limits_is_refused(tmp_path):
    text = base64.b64encode(os.urandom(3 * MiB // 4 * 3))[: 3 * MiB]  # compresses like text, not like a bomb
    path = _raw_zip(tmp_path / "source.qdpx", [
        ("project.qde", _deflate(PROJECT), len(PROJECT), zlib.crc32(PROJECT)),
        ("Sources/00000000-0000-0000-0000-000000000001.txt", _deflate(text), len(text), zlib.crc32(text)),
    ])
    assert read_qdpx(path).sources["text"].str.len().tolist() == [3 * MiB]
    small = ZipLimits(max_entry_bytes=MiB, max_total_bytes=10 * MiB)
    with pytest.raises(InputDataError, match=r"refused: Sources/0000.*\.txt expands to 3,145,728 bytes"):
        read_qdpx(path, limits=small)
    budget = ZipLimits(max_total_bytes=2 * MiB, max_entry_bytes=4 * MiB)  # declared total 3 MB + the project
    with pytest.raises(InputDataError, match=r"expands to [\d,]+ bytes in all"):
        read_qdpx(path, limits=budget)


def test_too_many_entries_are_refused_before_the_zip_directory_is_read(tmp_path):
    path = tmp_path / "many.qdpx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("project.qde", PROJECT)
        for i in range(300):
            archive.writestr(f"Sources/{i}.txt", "")
    with pytest.raises(InputDataError, match=r"many\.qdpx: refused: the zip declares 301 entries, more than the limit of 100"):
        read_qdpx(path, limits=ZipLimits(max_entries=100))
    assert len(read_qdpx(path).sources) == 1  # the default limit takes it


def test_a_zip_directory_claiming_a_million_entries_is_refused_cheaply(tmp_path):
    path = _raw_zip(tmp_path / "claims.qdpx", [("project.qde", _deflate(PROJECT), len(PROJECT), zlib.crc32(PROJECT))])
    raw = bytearray(path.read_bytes())
    at = raw.rfind(b"PK\x05\x06")
    raw[at + 8 : at + 12] = struct.pack("<2H", 0xFFFF, 0xFFFF)  # 65,535 entries declared, one present
    path.write_bytes(bytes(raw))
    with pytest.raises(InputDataError, match="declares 65,535 entries"):
        read_qdpx(path, limits=ZipLimits(max_entries=20_000))
    assert _peak(lambda: read_qdpx(path)) < MiB


def test_billion_laughs_is_refused_and_external_entities_are_not_read(tmp_path):
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10 if i else "lol"}">' for i in range(10))
    path = tmp_path / "laughs.qde"
    path.write_text(f'<?xml version="1.0"?><!DOCTYPE Project [{laughs}]>'
                    '<Project xmlns="urn:QDA-XML:project:1.0" name="&l9;"/>', encoding="utf-8")
    with pytest.raises(InputDataError, match=r"laughs\.qde, line 1: not well-formed XML .*amplification"):
        read_qdpx(path)
    assert _peak(lambda: read_qdpx(path)) < 4 * MiB
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret", encoding="utf-8")
    external = tmp_path / "external.qde"
    external.write_text(f'<?xml version="1.0"?><!DOCTYPE Project [<!ENTITY ext SYSTEM "{secret.as_uri()}">]>'
                        '<Project xmlns="urn:QDA-XML:project:1.0" name="x"><Description>&ext;</Description></Project>',
                        encoding="utf-8")
    assert "top secret" not in (read_qdpx(external).description or "")


def test_a_device_named_as_a_source_is_not_read(tmp_path):
    qde = PROJECT.replace(b"internal://00000000-0000-0000-0000-000000000001.txt", b"absolute:///dev/zero")
    path = tmp_path / "device.qde"
    path.write_bytes(qde)
    project = read_qdpx(path)
    assert project.sources["text"].isna().all()
    assert any("is not in the project" in w for w in project.warnings)


@pytest.mark.slow
def test_reading_the_bombs_keeps_a_fresh_interpreter_small(bomb, tmp_path):
    """Max RSS of a child that reads each bomb: counts lxml's and zlib's C memory too."""
    liar = _raw_zip(tmp_path / "liar.qdpx", [("project.qde", _zeros_stream(512 * MiB), 200, 0)])
    script = textwrap.dedent(
        """
        import json, resource, sys
        from toolkit.errors import InputDataError
        from toolkit.exchange.refi import read_qdpx
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        outcome = {}
        for path in sys.argv[1:]:
            try:
                read_qdpx(path)
                outcome[path] = "accepted"
            except InputDataError:
                outcome[path] = "refused"
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({"grew_kib": after - before, "outcome": outcome}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(bomb), str(liar)], capture_output=True, text=True, timeout=300, check=False,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(result["outcome"].values()) == {"refused"}
    assert result["grew_kib"] < 64 * 1024  # under 64 MB, against 3.2 GB before
