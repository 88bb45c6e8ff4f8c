"""Read TensorFlow checkpoints without TensorFlow (and without the protobuf package).

Two on-disk formats are understood, by parsing bytes only (nothing from the file is executed):

* **V2 bundle** (``tf.train.Saver`` since TF 1.x, ``tf.train.Checkpoint``): ``<prefix>.index``
  plus ``<prefix>.data-0000K-of-0000N``. The index is a LevelDB-format table (SSTable): the
  empty key holds a ``BundleHeaderProto`` and every other key names a tensor whose value is a
  ``BundleEntryProto`` (dtype, shape, shard, offset, size, masked crc32c, slices). The tensor's
  raw little-endian bytes live in the data shard at ``offset``.
* **V1** (the old single-file ``Saver`` format, e.g. EnhanceNet's ``weights``): one table (or
  shards ``<path>-0000K-of-0000N``) whose meta entry (the empty key) holds a ``SavedTensorSlices``
  listing every variable (name, shape, dtype, slices) and whose other keys (an OrderedCode
  encoding of name + slice) hold ``SavedTensorSlices`` with the slice's ``TensorProto``.

Every table block's crc32c (Castagnoli, masked as LevelDB does) and every V2 tensor's crc32c
are verified. All problems raise :class:`~vsrbench.core.errors.WeightsError` with one readable line.

Dtypes: float16/32/64, bfloat16 (returned widened to float32, which is exact), complex64/128,
int8/16/32/64, uint8/16/32/64, bool and the quantised integer types (as their storage type).
String, resource and variant tensors hold no weights: they are listed by :func:`list_variables`
but skipped by :func:`read_checkpoint` (with a warning naming them).

>>> weights = read_checkpoint("model/TecoGAN", prefixes=("generator/", "fnet/"))  # doctest: +SKIP
>>> weights["generator/generator_unit/input_stage/conv/Conv/weights"].shape  # doctest: +SKIP
(3, 3, 51, 64)
"""
from __future__ import annotations

import bisect
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple, Sequence

import numpy as np

from vsrbench.core.errors import WeightsError

__all__ = ["read_checkpoint", "list_variables", "VariableInfo", "crc32c", "mask_crc", "unmask_crc"]

# ----------------------------------------------------------------------------------------------
# crc32c (Castagnoli, reflected polynomial 0x82F63B78), as used by LevelDB tables and TF bundles
# ----------------------------------------------------------------------------------------------
_CRC_POLY = 0x82F63B78
_CRC_MASK_DELTA = 0xA282EAD8
_U32 = 0xFFFFFFFF


def _crc_table() -> np.ndarray:
    t = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        t = np.where(t & 1, (t >> np.uint32(1)) ^ np.uint32(_CRC_POLY), t >> np.uint32(1)).astype(np.uint32)
    return t


_CRC_TABLE = _crc_table()
_CRC_TABLE_LIST: list[int] = _CRC_TABLE.tolist()
_CRC_SERIAL_MAX = 8192  # below this many bytes a plain loop is faster than the lane-parallel one


def _crc_register_serial(reg: int, data: bytes | memoryview) -> int:
    """Feed ``data`` through the (un-inverted) crc32c register, one byte at a time."""
    table = _CRC_TABLE_LIST
    for byte in bytes(data):
        reg = table[(reg ^ byte) & 0xFF] ^ (reg >> 8)
    return reg


def _crc_register_parallel(reg: int, data: bytes | memoryview) -> int:
    """The same as :func:`_crc_register_serial`, computed on many lanes at once with NumPy.

    The register update is linear over GF(2): feeding ``A + B`` from register ``r`` gives
    ``shift_|B|(regA) ^ crc0(B)``, where ``shift_n`` feeds ``n`` zero bytes and ``crc0`` starts
    from 0. The data is cut into ``k`` lanes of ``L`` bytes processed side by side; 32 extra lanes
    carry the basis vectors ``1 << b`` through ``L`` zero bytes to tabulate ``shift_L``; the lanes
    are then chained in order and the tail is fed serially.
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    lanes = max(1, int(np.sqrt(buf.size)))
    length = buf.size // lanes
    body = buf[: lanes * length].reshape(lanes, length)
    regs = np.zeros(lanes + 32, dtype=np.uint32)
    regs[0] = reg
    regs[lanes:] = np.uint32(1) << np.arange(32, dtype=np.uint32)
    feed = np.zeros(lanes + 32, dtype=np.uint32)
    eight = np.uint32(8)
    for j in range(length):
        feed[:lanes] = body[:, j]
        regs = _CRC_TABLE[(regs ^ feed) & np.uint32(0xFF)] ^ (regs >> eight)
    basis = regs[lanes:]
    values = np.arange(256, dtype=np.uint32)
    shift_tables = np.zeros((4, 256), dtype=np.uint32)
    for b in range(32):
        shift_tables[b // 8] ^= np.where((values >> np.uint32(b % 8)) & np.uint32(1), basis[b], np.uint32(0))
    s0, s1, s2, s3 = (t.tolist() for t in shift_tables)
    lane_regs = regs[:lanes].tolist()
    total = lane_regs[0]
    for r in lane_regs[1:]:
        total = s0[total & 0xFF] ^ s1[(total >> 8) & 0xFF] ^ s2[(total >> 16) & 0xFF] ^ s3[total >> 24] ^ r
    return _crc_register_serial(total, buf[lanes * length:].tobytes())


def crc32c(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC-32C (Castagnoli) of ``data``, continuing from a previous ``crc`` (0 to start).

    >>> hex(crc32c(b"123456789"))
    '0xe3069283'
    """
    reg = (crc ^ _U32) & _U32
    feed = _crc_register_serial if len(data) < _CRC_SERIAL_MAX else _crc_register_parallel
    return feed(reg, data) ^ _U32


def mask_crc(crc: int) -> int:
    """LevelDB's / TensorFlow's masking of a stored crc (rotate right by 15, add a constant)."""
    return ((((crc >> 15) | (crc << 17)) & _U32) + _CRC_MASK_DELTA) & _U32


def unmask_crc(masked: int) -> int:
    """Inverse of :func:`mask_crc`."""
    rot = (masked - _CRC_MASK_DELTA) & _U32
    return ((rot >> 17) | (rot << 15)) & _U32


# ----------------------------------------------------------------------------------------------
# Protocol-buffer wire format (just what the checkpoint messages need)
# ----------------------------------------------------------------------------------------------
class _Corrupt(Exception):
    """Malformed bytes; turned into a WeightsError that names the file by the caller."""


Fields = dict  # field number -> list of (wire type, int or memoryview)


def _varint(buf: bytes | memoryview, pos: int) -> tuple[int, int]:
    """Decode one base-128 varint at ``pos``; return (value, position after it)."""
    value, shift = 0, 0
    while True:
        if pos >= len(buf):
            raise _Corrupt("a varint runs past the end of its buffer")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise _Corrupt("a varint is longer than 10 bytes")


def _parse_message(buf: bytes | memoryview) -> Fields:
    """Split a serialised message into its fields (unknown fields are kept, groups refused)."""
    buf = memoryview(buf)
    fields: Fields = {}
    pos = 0
    while pos < len(buf):
        tag, pos = _varint(buf, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            if pos + width > len(buf):
                raise _Corrupt(f"field {number} runs past the end of its message")
            value = int.from_bytes(buf[pos:pos + width], "little")
            pos += width
        elif wire == 2:
            size, pos = _varint(buf, pos)
            if pos + size > len(buf):
                raise _Corrupt(f"field {number} (length {size}) runs past the end of its message")
            value = buf[pos:pos + size]
            pos += size
        else:
            raise _Corrupt(f"unsupported protobuf wire type {wire} (field {number})")
        fields.setdefault(number, []).append((wire, value))
    return fields


def _get_int(fields: Fields, number: int, default: int = 0) -> int:
    """The last scalar value of a varint/fixed field (protobuf's last-one-wins rule)."""
    values = [v for w, v in fields.get(number, ()) if w != 2]
    return values[-1] if values else default


def _get_signed(fields: Fields, number: int, default: int = 0) -> int:
    """An int64 varint field as a signed value (two's complement)."""
    value = _get_int(fields, number, default)
    return value - (1 << 64) if value >= 1 << 63 else value


def _get_bytes(fields: Fields, number: int) -> memoryview | None:
    values = [v for w, v in fields.get(number, ()) if w == 2]
    return values[-1] if values else None


def _get_messages(fields: Fields, number: int) -> list[Fields]:
    return [_parse_message(v) for w, v in fields.get(number, ()) if w == 2]


def _packed_varints(buf: memoryview) -> np.ndarray:
    """Decode a packed run of varints into uint64 (vectorised)."""
    raw = np.frombuffer(buf, dtype=np.uint8)
    if raw.size == 0:
        return np.zeros(0, dtype=np.uint64)
    if raw[-1] & 0x80:
        raise _Corrupt("a packed varint field ends inside a varint")
    ends = np.flatnonzero(raw < 0x80)
    starts = np.concatenate(([0], ends[:-1] + 1))
    position = np.arange(raw.size) - np.repeat(starts, ends - starts + 1)
    if position.max() > 9:
        raise _Corrupt("a varint is longer than 10 bytes")
    payload = (raw & 0x7F).astype(np.uint64) << (7 * position).astype(np.uint64)
    return np.bitwise_or.reduceat(payload, starts)


_WIRE_OF_KIND = {"varint": 0, "fixed32": 5, "fixed64": 1}


def _repeated_numbers(fields: Fields, number: int, kind: str) -> np.ndarray:
    """A repeated numeric field, packed or not, as raw uint32 (fixed32) or uint64 values."""
    wire_scalar = _WIRE_OF_KIND[kind]
    dtype = np.dtype("<u4") if kind == "fixed32" else np.dtype("<u8")
    parts: list[np.ndarray] = []
    for wire, value in fields.get(number, ()):
        if wire == 2:
            if kind == "varint":
                parts.append(_packed_varints(value))
            else:
                if len(value) % dtype.itemsize:
                    raise _Corrupt(f"packed field {number} is not a whole number of {kind} values")
                parts.append(np.frombuffer(value, dtype=dtype))
        elif wire == wire_scalar:
            parts.append(np.array([value], dtype=dtype))
        else:
            raise _Corrupt(f"field {number} has wire type {wire}, expected {kind}")
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


# ----------------------------------------------------------------------------------------------
# TensorFlow dtypes
# ----------------------------------------------------------------------------------------------
class _DType(NamedTuple):
    name: str
    numpy: np.dtype | None  # storage dtype of the raw bytes; None: not a numeric tensor
    value_field: int  # TensorProto field of the typed values (V1)
    value_kind: str  # wire kind of that field


_DTYPES: dict[int, _DType] = {
    1: _DType("float32", np.dtype("<f4"), 5, "fixed32"),
    2: _DType("float64", np.dtype("<f8"), 6, "fixed64"),
    3: _DType("int32", np.dtype("<i4"), 7, "varint"),
    4: _DType("uint8", np.dtype("u1"), 7, "varint"),
    5: _DType("int16", np.dtype("<i2"), 7, "varint"),
    6: _DType("int8", np.dtype("i1"), 7, "varint"),
    7: _DType("string", None, 8, "bytes"),
    8: _DType("complex64", np.dtype("<c8"), 9, "fixed32"),
    9: _DType("int64", np.dtype("<i8"), 10, "varint"),
    10: _DType("bool", np.dtype("?"), 11, "varint"),
    11: _DType("qint8", np.dtype("i1"), 7, "varint"),
    12: _DType("quint8", np.dtype("u1"), 7, "varint"),
    13: _DType("qint32", np.dtype("<i4"), 7, "varint"),
    14: _DType("bfloat16", np.dtype("<u2"), 13, "varint"),
    15: _DType("qint16", np.dtype("<i2"), 7, "varint"),
    16: _DType("quint16", np.dtype("<u2"), 7, "varint"),
    17: _DType("uint16", np.dtype("<u2"), 7, "varint"),
    18: _DType("complex128", np.dtype("<c16"), 12, "fixed64"),
    19: _DType("float16", np.dtype("<f2"), 13, "varint"),
    20: _DType("resource", None, 14, "bytes"),
    21: _DType("variant", None, 15, "bytes"),
    22: _DType("uint32", np.dtype("<u4"), 16, "varint"),
    23: _DType("uint64", np.dtype("<u8"), 17, "varint"),
}
_REF_OFFSET = 100  # DT_FLOAT_REF = 101, ...


def _dtype(code: int, where: str) -> _DType:
    base = code - _REF_OFFSET if code > _REF_OFFSET else code
    if base not in _DTYPES:
        raise _Corrupt(f"{where} has an unknown TensorFlow dtype code {code}")
    return _DTYPES[base]


def _finish(raw: np.ndarray, dt: _DType) -> np.ndarray:
    """Storage values -> the array handed out (bfloat16 is widened to float32, exactly)."""
    if dt.name == "bfloat16":
        return (raw.astype(np.uint32) << np.uint32(16)).view(np.float32)
    return raw.astype(raw.dtype.newbyteorder("="), copy=False)


# ----------------------------------------------------------------------------------------------
# Shapes and slices
# ----------------------------------------------------------------------------------------------
def _shape(shape_proto: memoryview | None, where: str) -> tuple[int, ...]:
    """TensorShapeProto -> tuple of sizes (dim = 2, Dim.size = 1, unknown_rank = 3)."""
    if shape_proto is None:
        return ()
    fields = _parse_message(shape_proto)
    if _get_int(fields, 3):
        raise _Corrupt(f"{where} has a shape of unknown rank")
    dims = tuple(_get_signed(d, 1) for d in _get_messages(fields, 2))
    if any(d < 0 for d in dims):
        raise _Corrupt(f"{where} has an unknown dimension in its shape {dims}")
    return dims


Extent = tuple[int, int]  # (start, length); length -1 = the whole dimension


def _slice_extents(slice_proto: Fields) -> list[Extent]:
    """TensorSliceProto -> extents (extent = 1; Extent.start = 1, Extent.length = 2, oneof)."""
    extents = []
    for ext in _get_messages(slice_proto, 1):
        length = _get_signed(ext, 2) if 2 in ext else -1
        extents.append((_get_signed(ext, 1), length))
    return extents


def _slice_index(extents: Sequence[Extent], shape: Sequence[int], name: str) -> tuple[slice, ...]:
    """Extents -> a NumPy index into the full tensor (no extents: the whole tensor)."""
    if not extents:
        return tuple(slice(None) for _ in shape)
    if len(extents) != len(shape):
        raise _Corrupt(f"tensor {name!r}: a slice has {len(extents)} dimensions, the tensor {len(shape)}")
    index = []
    for (start, length), size in zip(extents, shape):
        stop = size if length < 0 else start + length
        if not 0 <= start <= stop <= size:
            raise _Corrupt(f"tensor {name!r}: slice extent ({start}, {length}) is outside its shape {tuple(shape)}")
        index.append(slice(start, stop))
    return tuple(index)


def _assemble(name: str, shape: tuple[int, ...], pieces: Sequence[tuple[list[Extent], np.ndarray]]) -> np.ndarray:
    """Put the saved slices of a tensor together; every element must be covered exactly once."""
    if len(pieces) == 1 and all(start == 0 and length < 0 for start, length in pieces[0][0]):
        return pieces[0][1].reshape(shape)
    full = np.zeros(shape, dtype=pieces[0][1].dtype)
    covered = np.zeros(shape, dtype=np.int32)
    for extents, values in pieces:
        index = _slice_index(extents, shape, name)
        full[index] = values.reshape(full[index].shape)
        covered[index] += 1
    if covered.size and (covered.min() != 1 or covered.max() != 1):
        raise _Corrupt(f"tensor {name!r}: its saved slices do not cover every element exactly once")
    return full


# ----------------------------------------------------------------------------------------------
# OrderedCode keys of tensor slices: "\x00" name "\x00\x01" ndims (start, length)*ndims
# ----------------------------------------------------------------------------------------------
def _ordered_string(key: bytes, pos: int) -> tuple[bytes, int]:
    out = bytearray()
    while pos + 1 < len(key):
        a, b = key[pos], key[pos + 1]
        if a == 0x00 and b == 0x01:
            return bytes(out), pos + 2
        if a == 0x00 and b == 0xFF:
            out.append(0x00)
        elif a == 0xFF and b == 0x00:
            out.append(0xFF)
        else:
            out.append(a)
            pos += 1
            continue
        pos += 2
    raise _Corrupt("a slice key's tensor name is not terminated")


def _ordered_unsigned(key: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(key):
        raise _Corrupt("a slice key ends early")
    n = key[pos]
    if n > 8 or pos + 1 + n > len(key):
        raise _Corrupt("a slice key has a bad number")
    return int.from_bytes(key[pos + 1:pos + 1 + n], "big"), pos + 1 + n


def _ordered_signed(key: bytes, pos: int) -> tuple[int, int]:
    """OrderedCode signed number: n leading header bits (1s if >= 0, 0s if < 0), then the value."""
    if pos >= len(key):
        raise _Corrupt("a slice key ends early")
    first = key[pos]
    head = (first << 8) | (key[pos + 1] if pos + 1 < len(key) else 0)
    if not first & 0x80:  # negative numbers: the header is leading zeros instead of ones
        head ^= 0xFFFF
    n = 0
    while n < 16 and head & (0x8000 >> n):
        n += 1
    if not 1 <= n <= 10 or pos + n > len(key):
        raise _Corrupt("a slice key has a bad signed number")
    raw = int.from_bytes(key[pos:pos + n], "big") ^ (((1 << n) - 1) << (7 * n))
    if raw >= 1 << (8 * n - 1):
        raw -= 1 << (8 * n)
    return raw, pos + n


def _decode_slice_key(key: bytes) -> tuple[str, list[Extent]]:
    """Decode TF's ``EncodeTensorNameSlice`` key into (tensor name, extents)."""
    if not key.startswith(b"\x00"):
        raise _Corrupt(f"{key[:40]!r} is not a tensor-slice key")
    raw_name, pos = _ordered_string(key, 1)
    ndims, pos = _ordered_unsigned(key, pos)
    extents = []
    for _ in range(ndims):
        start, pos = _ordered_signed(key, pos)
        length, pos = _ordered_signed(key, pos)
        extents.append((start, length))
    return raw_name.decode("utf-8", "replace"), extents


# ----------------------------------------------------------------------------------------------
# LevelDB-format table (SSTable)
# ----------------------------------------------------------------------------------------------
_TABLE_MAGIC = 0xDB4775248B80FB57
_FOOTER_SIZE = 48
_TRAILER_SIZE = 5  # compression type byte + masked crc32c
_COMPRESSION = {0: "none", 1: "snappy", 2: "zstd"}


class _Table:
    """An immutable sorted key -> value table in LevelDB's format; blocks are read on demand."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.size = path.stat().st_size
        except OSError as e:
            raise WeightsError(f"cannot read checkpoint file {str(path)!r}: {e.strerror or e}") from None
        footer = self._read(max(0, self.size - _FOOTER_SIZE), _FOOTER_SIZE)
        self._check_footer(footer)
        try:
            _meta_offset, pos = _varint(footer, 0)
            _meta_size, pos = _varint(footer, pos)
            index_offset, pos = _varint(footer, pos)
            index_size, pos = _varint(footer, pos)
        except _Corrupt:
            raise WeightsError(f"{str(path)!r} has a corrupt table footer: the checkpoint file is damaged") from None
        index = list(self._entries(self._block(index_offset, index_size)))
        self.index_keys = [k for k, _ in index]
        self.handles = [self._handle(v) for _, v in index]

    def _read(self, offset: int, size: int) -> bytes:
        try:
            with open(self.path, "rb") as f:
                f.seek(offset)
                return f.read(size)
        except OSError as e:
            raise WeightsError(f"cannot read checkpoint file {str(self.path)!r}: {e.strerror or e}") from None

    def _check_footer(self, footer: bytes) -> None:
        if self.size >= _FOOTER_SIZE and int.from_bytes(footer[-8:], "little") == _TABLE_MAGIC:
            return
        if self.size >= 3 and self._read(0, 2) == b"\x00\x00":  # a table starts with the empty key
            raise WeightsError(
                f"{str(self.path)!r} ({self.size} bytes) is a truncated TensorFlow checkpoint table: it starts like "
                f"one but its end (the footer with magic 0x{_TABLE_MAGIC:016x}) is missing; copy or download it again"
            )
        raise WeightsError(
            f"{str(self.path)!r} ({self.size} bytes) is not a TensorFlow checkpoint: its last 8 bytes are not the "
            f"table magic 0x{_TABLE_MAGIC:016x}"
        )

    def _handle(self, value: memoryview) -> tuple[int, int]:
        try:
            offset, pos = _varint(value, 0)
            size, _ = _varint(value, pos)
        except _Corrupt:
            raise WeightsError(f"{str(self.path)!r} has a corrupt index block: the checkpoint file is damaged") from None
        return offset, size

    def _block(self, offset: int, size: int, last_key: bytes | None = None) -> memoryview:
        """A block's contents after checking bounds, crc32c and compression.

        ``last_key`` is the index key of a data block (None for the index block itself); it is
        used to say which tensors a damaged block holds.
        """
        what = "the index block" if last_key is None else "a data block"
        end = offset + size + _TRAILER_SIZE
        if end > self.size - _FOOTER_SIZE:
            raise WeightsError(
                f"{str(self.path)!r}: {what} at byte {offset} (size {size}) runs past the end of the file "
                f"({self.size} bytes): the file is truncated or corrupt"
            )
        raw = memoryview(self._read(offset, size + _TRAILER_SIZE))
        contents, kind = raw[:size], raw[size]
        stored = int.from_bytes(raw[size + 1:], "little")
        actual = crc32c(raw[:size + 1])
        if unmask_crc(stored) != actual:
            if last_key is not None:
                what = f"the data block holding {self._block_contents_description(contents, last_key)}"
            raise WeightsError(
                f"{str(self.path)!r}: checksum mismatch in {what} at byte {offset} (crc32c 0x{actual:08x}, "
                f"stored 0x{unmask_crc(stored):08x}): the checkpoint file is corrupt"
            )
        if kind != 0:
            name = _COMPRESSION.get(kind, f"unknown type {kind}")
            raise WeightsError(
                f"{str(self.path)!r}: {what} at byte {offset} is {name}-compressed; TensorFlow writes checkpoints "
                "uncompressed and vsrbench reads only uncompressed tables"
            )
        return contents

    def _entries(self, block: memoryview) -> Iterator[tuple[bytes, memoryview]]:
        """Entries of one block (prefix-compressed keys; the restart array is not needed to scan)."""
        try:
            if len(block) < 4:
                raise _Corrupt("block shorter than its restart count")
            restarts = int.from_bytes(block[-4:], "little")
            limit = len(block) - 4 - 4 * restarts
            if limit < 0:
                raise _Corrupt("restart array larger than the block")
            pos, key = 0, b""
            while pos < limit:
                shared, pos = _varint(block, pos)
                unshared, pos = _varint(block, pos)
                value_size, pos = _varint(block, pos)
                if shared > len(key) or pos + unshared + value_size > limit:
                    raise _Corrupt("entry runs past its block")
                key = key[:shared] + bytes(block[pos:pos + unshared])
                pos += unshared
                yield key, block[pos:pos + value_size]
                pos += value_size
        except _Corrupt as e:
            raise WeightsError(f"{str(self.path)!r}: corrupt table block ({e}): the checkpoint file is damaged") from None

    def items(self) -> Iterator[tuple[bytes, memoryview]]:
        """All (key, value) pairs in key order."""
        for i, (offset, size) in enumerate(self.handles):
            yield from self._entries(self._data_block(i, offset, size))

    def get(self, key: bytes) -> memoryview | None:
        """The value stored under ``key``, or None (reads one block)."""
        i = bisect.bisect_left(self.index_keys, key)
        if i == len(self.handles):
            return None
        for k, v in self._entries(self._data_block(i, *self.handles[i])):
            if k == key:
                return v
        return None

    def _data_block(self, i: int, offset: int, size: int) -> memoryview:
        return self._block(offset, size, self.index_keys[i])

    def _block_contents_description(self, contents: memoryview, last_key: bytes) -> str:
        """Best effort (the block is damaged): the tensors whose entries it holds."""
        try:
            keys = [k for k, _ in self._entries(contents)]
        except WeightsError:
            return f"the entries up to key {_describe_key(last_key)}"
        names = [_describe_key(k) for k in keys if k != b""]
        if not names:
            return "the header/meta entry"
        return ("tensor " if len(names) == 1 else "tensors ") + ", ".join(names)


def _describe_key(key: bytes) -> str:
    """A readable form of a table key (tensor names for slice keys)."""
    if key.startswith(b"\x00"):
        try:
            return repr(_decode_slice_key(key)[0])
        except _Corrupt:
            pass
    return repr(key.decode("utf-8", "replace"))


# ----------------------------------------------------------------------------------------------
# Locating the files of a checkpoint
# ----------------------------------------------------------------------------------------------
_DATA_SUFFIX = re.compile(r"\.data-\d{5}-of-\d{5}$")
_V1_SHARD = re.compile(r"-\d{5}-of-\d{5}$")


@dataclass(frozen=True)
class _Located:
    version: int  # 1 or 2
    prefix: Path  # V2: the bundle prefix; V1: the path given (or the shard pattern's stem)
    files: tuple[Path, ...]  # V2: (index,); V1: every shard


def _locate(path: str | os.PathLike) -> _Located:
    """Accept a V2 prefix, its ``.index`` or a data shard, or a V1 file (or its shard stem)."""
    p = Path(path).expanduser()
    text = str(p)
    if text.endswith(".index"):
        p = Path(text[: -len(".index")])
    elif _DATA_SUFFIX.search(text):
        p = Path(_DATA_SUFFIX.sub("", text))
    index = Path(str(p) + ".index")
    if index.is_file():
        return _Located(2, p, (index,))
    if p.is_file() and _V1_SHARD.search(p.name):  # one shard of a sharded V1 checkpoint: read them all
        p = Path(_V1_SHARD.sub("", text))
    elif p.is_file():
        return _Located(1, p, (p,))
    shards = sorted(p.parent.glob(p.name + "-?????-of-?????")) if p.parent.is_dir() else []
    if shards:
        return _Located(1, p, tuple(shards))
    if p.is_dir():
        found = sorted(x.name for x in p.glob("*.index"))
        hint = f" (it holds {', '.join(found)}: pass {str(p / found[0][:-6])!r})" if found else ""
        raise WeightsError(f"{text!r} is a folder, not a TensorFlow checkpoint prefix or file{hint}")
    raise WeightsError(
        f"TensorFlow checkpoint not found at {text!r}: expected {str(index)!r} with "
        f"{str(p)!r}.data-00000-of-0000N next to it (format V2), or a single-file checkpoint {str(p)!r} (format V1)"
    )


# ----------------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------------
class VariableInfo(NamedTuple):
    """A checkpoint variable's dtype name (TensorFlow's, e.g. 'float32', 'bfloat16') and shape."""

    dtype: str
    shape: tuple[int, ...]


def _selected(name: str, prefixes: Sequence[str] | None) -> bool:
    return prefixes is None or name.startswith(tuple(prefixes))


def _prefixes(prefixes: str | Iterable[str] | None) -> tuple[str, ...] | None:
    if prefixes is None:
        return None
    return (prefixes,) if isinstance(prefixes, str) else tuple(prefixes)


def list_variables(path: str | os.PathLike) -> dict[str, VariableInfo]:
    """Every variable's (dtype, shape), from the index / meta entry only (no tensor data is read).

    ``path`` is a V2 prefix (``.../model``), its ``.index`` file or a data shard, or a V1 file.
    """
    located = _locate(path)
    found = _v2_entries(located) if located.version == 2 else _v1_meta(_v1_tables(located))
    return {name: VariableInfo(found[name].dtype.name, found[name].shape) for name in sorted(found)}


def read_checkpoint(path: str | os.PathLike, prefixes: str | Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """Read the variables of a TensorFlow checkpoint (V1 or V2) into NumPy arrays.

    ``prefixes`` keeps only the variables whose names start with one of them (e.g.
    ``("generator/", "fnet/")``); data of the others is not read. Arrays have TensorFlow's shapes
    (conv kernels HWIO) and dtypes, except bfloat16, which is widened to float32 exactly.
    Checksums are verified; every problem raises :class:`~vsrbench.core.errors.WeightsError`.
    """
    located = _locate(path)
    chosen = _prefixes(prefixes)
    tensors = _read_v2(located, chosen) if located.version == 2 else _read_v1(located, chosen)
    return dict(sorted(tensors.items()))


def _warn_skipped(skipped: list[str], dtypes: dict[str, str]) -> None:
    if skipped:
        listed = ", ".join(f"{n} ({dtypes[n]})" for n in skipped)
        warnings.warn(f"skipped non-numeric checkpoint variables (they hold no weights): {listed}", stacklevel=3)


# ----------------------------------------------------------------------------------------------
# V2 bundles
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Entry:
    """A decoded BundleEntryProto."""

    dtype: _DType
    shape: tuple[int, ...]
    shard: int
    offset: int
    size: int
    crc: int | None  # masked crc32c of the bytes; None when absent
    slices: tuple[tuple[Extent, ...], ...]


def _parse_entry(value: memoryview, name: str) -> _Entry:
    """BundleEntryProto: dtype 1, shape 2, shard_id 3, offset 4, size 5, crc32c 6 (fixed32), slices 7."""
    fields = _parse_message(value)
    return _Entry(
        dtype=_dtype(_get_int(fields, 1), f"tensor {name!r}"),
        shape=_shape(_get_bytes(fields, 2), f"tensor {name!r}"),
        shard=_get_int(fields, 3),
        offset=_get_signed(fields, 4),
        size=_get_signed(fields, 5),
        crc=_get_int(fields, 6) if 6 in fields else None,
        slices=tuple(tuple(_slice_extents(s)) for s in _get_messages(fields, 7)),
    )


class _Bundle(NamedTuple):
    num_shards: int
    big_endian: bool
    entries: dict[str, _Entry]  # full tensors by name
    slice_entries: dict[str, list[tuple[list[Extent], _Entry]]]  # pieces of partitioned tensors


def _v2_bundle(located: _Located) -> _Bundle:
    """Parse the index of a V2 bundle: header (num_shards 1, endianness 2) and entries."""
    index_path = located.files[0]
    table = _Table(index_path)
    entries: dict[str, _Entry] = {}
    pieces: dict[str, list[tuple[list[Extent], _Entry]]] = {}
    header: Fields | None = None
    try:
        for key, value in table.items():
            if key == b"":
                header = _parse_message(value)
            elif key.startswith(b"\x00"):
                name, extents = _decode_slice_key(key)
                pieces.setdefault(name, []).append((extents, _parse_entry(value, name)))
            else:
                name = key.decode("utf-8", "replace")
                entries[name] = _parse_entry(value, name)
    except _Corrupt as e:
        raise WeightsError(f"{str(index_path)!r} is a corrupt checkpoint index: {e}") from None
    if header is None:
        raise WeightsError(f"{str(index_path)!r} has no bundle header (empty key): it is not a V2 checkpoint index")
    if 1 in header and header[1][-1][0] == 2:
        raise WeightsError(
            f"{str(index_path)!r} looks like a V1 checkpoint table, not a V2 index; pass the single-file checkpoint itself"
        )
    return _Bundle(max(1, _get_int(header, 1)), _get_int(header, 2) == 1, entries, pieces)


def _v2_entries(located: _Located) -> dict[str, _Entry]:
    return _v2_bundle(located).entries


def _shard_path(located: _Located, shard: int, num_shards: int) -> Path:
    return Path(f"{located.prefix}.data-{shard:05d}-of-{num_shards:05d}")


class _Shards:
    """Open data shards of a bundle, read by (shard, offset, size) with bounds checks."""

    def __init__(self, located: _Located, num_shards: int):
        self.located, self.num_shards = located, num_shards
        self.files: dict[int, object] = {}

    def read(self, name: str, entry: _Entry) -> bytes:
        path = _shard_path(self.located, entry.shard, self.num_shards)
        if entry.shard not in self.files:
            if not path.is_file():
                raise WeightsError(
                    f"data shard {str(path)!r} of checkpoint {str(self.located.prefix)!r} is missing "
                    f"(needed for tensor {name!r}); copy every .data-*-of-{self.num_shards:05d} file next to the .index"
                )
            self.files[entry.shard] = open(path, "rb")
        f = self.files[entry.shard]
        data = b""
        if entry.offset >= 0:
            f.seek(entry.offset)
            data = f.read(entry.size)
        if len(data) != entry.size or entry.offset < 0:
            raise WeightsError(
                f"data shard {str(path)!r} is truncated: tensor {name!r} needs bytes {entry.offset}..{entry.offset + entry.size} "
                f"but the file has {path.stat().st_size} bytes"
            )
        actual = crc32c(data) if entry.crc is not None else None
        if entry.crc is not None and actual != unmask_crc(entry.crc):
            raise WeightsError(
                f"checksum mismatch for tensor {name!r} in {str(path)!r} (crc32c 0x{actual:08x}, "
                f"stored 0x{unmask_crc(entry.crc):08x}): the checkpoint is corrupt"
            )
        return data

    def close(self) -> None:
        for f in self.files.values():
            f.close()


def _v2_array(name: str, entry: _Entry, data: bytes, big_endian: bool) -> np.ndarray:
    dt = entry.dtype
    storage = dt.numpy.newbyteorder(">") if big_endian else dt.numpy
    count = int(np.prod(entry.shape, dtype=np.int64))
    if len(data) != count * storage.itemsize:
        raise WeightsError(
            f"tensor {name!r}: {len(data)} bytes stored, expected {count * storage.itemsize} for {dt.name} {entry.shape}"
        )
    return _finish(np.frombuffer(data, dtype=storage).reshape(entry.shape).copy(), dt)


def _read_v2(located: _Located, prefixes: tuple[str, ...] | None) -> dict[str, np.ndarray]:
    bundle = _v2_bundle(located)
    shards = _Shards(located, bundle.num_shards)
    out: dict[str, np.ndarray] = {}
    skipped: list[str] = []
    try:
        for name, entry in bundle.entries.items():
            if not _selected(name, prefixes):
                continue
            if entry.dtype.numpy is None:
                skipped.append(name)
                continue
            if entry.slices:
                parts = bundle.slice_entries.get(name, [])
                arrays = [(ext, _v2_array(name, e, shards.read(name, e), bundle.big_endian)) for ext, e in parts]
                if not arrays:
                    raise WeightsError(f"partitioned tensor {name!r} has no saved slices in {str(located.files[0])!r}")
                try:
                    out[name] = _assemble(name, entry.shape, arrays)
                except _Corrupt as e:
                    raise WeightsError(f"{str(located.files[0])!r}: {e}") from None
            else:
                out[name] = _v2_array(name, entry, shards.read(name, entry), bundle.big_endian)
    finally:
        shards.close()
    _warn_skipped(skipped, {n: bundle.entries[n].dtype.name for n in skipped})
    return out


# ----------------------------------------------------------------------------------------------
# V1 single-file checkpoints
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Meta:
    """A decoded SavedSliceMeta: name 1, shape 2, type 3, slice 4."""

    dtype: _DType
    shape: tuple[int, ...]


def _v1_meta_of(table: _Table) -> dict[str, _Meta]:
    """SavedTensorSlices.meta (field 1) of the empty key: SavedTensorSliceMeta.tensor (field 1)."""
    value = table.get(b"")
    if value is None:
        raise WeightsError(f"{str(table.path)!r} has no meta entry (empty key): it is not a V1 TensorFlow checkpoint")
    meta = _parse_message(value)
    if 1 not in meta or meta[1][-1][0] != 2:
        raise WeightsError(
            f"{str(table.path)!r} has no SavedTensorSlices meta: it is not a V1 checkpoint (a V2 .index needs its .data files)"
        )
    out = {}
    for tensor in _get_messages(_parse_message(_get_bytes(meta, 1)), 1):
        name = bytes(_get_bytes(tensor, 1) or b"").decode("utf-8", "replace")
        out[name] = _Meta(_dtype(_get_int(tensor, 3), f"tensor {name!r}"), _shape(_get_bytes(tensor, 2), f"tensor {name!r}"))
    return out


def _v1_tables(located: _Located) -> list[_Table]:
    return [_Table(p) for p in located.files]


def _v1_meta(tables: Sequence[_Table]) -> dict[str, _Meta]:
    """The variables listed by the meta entries of all shards."""
    metas: dict[str, _Meta] = {}
    for table in tables:
        try:
            metas.update(_v1_meta_of(table))
        except _Corrupt as e:
            raise WeightsError(f"{str(table.path)!r} has a corrupt meta entry: {e}") from None
    return metas


def _tensor_proto_values(proto: Fields, dt: _DType, count: int, name: str) -> np.ndarray:
    """TensorProto -> flat storage array of ``count`` values (tensor_content 4, or the typed field).

    Fewer typed values than ``count`` mean "repeat the last one" (TensorProto's rule).
    """
    content = _get_bytes(proto, 4)
    if content is not None:
        if len(content) != count * dt.numpy.itemsize:
            raise _Corrupt(f"tensor {name!r} slice holds {len(content)} bytes, expected {count * dt.numpy.itemsize}")
        return np.frombuffer(content, dtype=dt.numpy).copy()
    raw = _repeated_numbers(proto, dt.value_field, dt.value_kind)
    if dt.value_kind == "varint":
        values = raw.astype(np.uint64).view(np.int64).astype(dt.numpy)
        if dt.name in ("float16", "bfloat16"):  # half_val holds the 16-bit patterns
            values = raw.astype(np.uint16).view(dt.numpy)
    else:
        values = raw.view(np.float32 if dt.value_kind == "fixed32" else np.float64)
        values = values.view(dt.numpy) if dt.numpy.kind == "c" else values.astype(dt.numpy)
    if values.size == count:
        return values
    if 0 < values.size < count:
        return np.concatenate([values, np.full(count - values.size, values[-1], dtype=values.dtype)])
    if values.size == 0:
        return np.zeros(count, dtype=dt.numpy)
    raise _Corrupt(f"tensor {name!r} slice holds {values.size} values, expected {count}")


def _v1_slice(value: memoryview, metas: dict[str, _Meta]) -> tuple[str, list[Extent], np.ndarray]:
    """SavedTensorSlices.data (field 2) = SavedSlice: name 1, slice 2, data 3 (TensorProto)."""
    saved = _parse_message(_get_bytes(_parse_message(value), 2) or b"")
    name = bytes(_get_bytes(saved, 1) or b"").decode("utf-8", "replace")
    if name not in metas:
        raise _Corrupt(f"data for tensor {name!r}, which the meta entry does not list")
    meta = metas[name]
    extents = _slice_extents(_parse_message(_get_bytes(saved, 2) or b""))
    index = _slice_index(extents, meta.shape, name)
    slice_shape = np.empty(meta.shape, dtype=np.uint8)[index].shape
    count = int(np.prod(slice_shape, dtype=np.int64))
    values = _tensor_proto_values(_parse_message(_get_bytes(saved, 3) or b""), meta.dtype, count, name)
    return name, extents, values.reshape(slice_shape)


def _read_v1(located: _Located, prefixes: tuple[str, ...] | None) -> dict[str, np.ndarray]:
    tables = _v1_tables(located)
    metas = _v1_meta(tables)
    wanted = {n for n, m in metas.items() if _selected(n, prefixes) and m.dtype.numpy is not None}
    pieces: dict[str, list[tuple[list[Extent], np.ndarray]]] = {n: [] for n in wanted}
    for table in tables:
        for key, value in table.items():
            if not key.startswith(b"\x00"):
                continue
            try:
                if _decode_slice_key(key)[0] not in wanted:
                    continue
                name, extents, values = _v1_slice(value, metas)
            except _Corrupt as e:
                raise WeightsError(f"{str(table.path)!r}: corrupt tensor data ({e})") from None
            pieces[name].append((extents, values))
    out = {}
    for name in sorted(wanted):
        if not pieces[name]:
            raise WeightsError(f"{str(located.prefix)!r}: the data of tensor {name!r} is missing (incomplete checkpoint)")
        try:
            out[name] = _finish(_assemble(name, metas[name].shape, pieces[name]), metas[name].dtype)
        except _Corrupt as e:
            raise WeightsError(f"{str(located.prefix)!r}: {e}") from None
    skipped = sorted(n for n, m in metas.items() if _selected(n, prefixes) and m.dtype.numpy is None)
    _warn_skipped(skipped, {n: metas[n].dtype.name for n in skipped})
    return out
