"""The TensorFlow checkpoint reader against real files written by TensorFlow (../shared).

References: ``expected.npz`` (values dumped by TensorFlow next to the V2 fixture), the
EnhanceNet authors' V1 file, published CRC-32C check values, the protobuf encoding guide's
examples and TensorFlow's own OrderedCode test vectors; plus hand-made byte strings.
"""
from __future__ import annotations

import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from _support.paths import shared_path
from vsrbench.baselines import tfckpt
from vsrbench.baselines.tfckpt import crc32c, list_variables, mask_crc, read_checkpoint, unmask_crc
from vsrbench.core.errors import WeightsError

ENET_PARAMS = 852_867


# ------------------------------------------------------------------------------------------
# fixtures
@pytest.fixture
def v2_dir() -> Path:
    return shared_path("fixtures", "tf_checkpoint_v2")


@pytest.fixture
def v2_prefix(v2_dir: Path) -> Path:
    return v2_dir / "model"


@pytest.fixture
def v1_file() -> Path:
    return shared_path("weights", "enhancenet", "weights")


@pytest.fixture
def v2_copy(v2_dir: Path, tmp_path: Path) -> Path:
    """A writable copy of the V2 fixture; returns its prefix."""
    for name in ("model.index", "model.data-00000-of-00001"):
        shutil.copyfile(v2_dir / name, tmp_path / name)
    return tmp_path / "model"


def _expected(v2_dir: Path) -> dict[str, np.ndarray]:
    with np.load(v2_dir / "expected.npz") as z:
        return {k.replace("|", "/"): z[k] for k in z.files}


# ------------------------------------------------------------------------------------------
# crc32c
def _crc32c_bitwise(data: bytes) -> int:
    """Straight from the definition: reflected polynomial 0x82F63B78, init/xorout 0xFFFFFFFF."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


@pytest.mark.parametrize("data, expected", [
    (b"123456789", 0xE3069283),  # the CRC catalogue's check value for CRC-32C
    (bytes(32), 0x8A9136AA),  # RFC 3720 (iSCSI) appendix B.4 test vectors
    (b"\xff" * 32, 0x62A8AB43),
    (bytes(range(32)), 0x46DD794E),
    (bytes(range(31, -1, -1)), 0x113FDB5C),
    (b"", 0),
])
def test_crc32c_published_values(data, expected):
    assert crc32c(data) == expected


@pytest.mark.parametrize("size", [1, 1000, 8191, 8192, 9001, 20_011])
def test_crc32c_matches_bitwise_definition_on_both_paths(size, rng):
    data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
    assert crc32c(data) == _crc32c_bitwise(data)
    # continuing from a previous crc equals the crc of the concatenation
    assert crc32c(data[size // 3:], crc32c(data[: size // 3])) == _crc32c_bitwise(data)


def test_crc_mask_roundtrip_and_changes_value(rng):
    for crc in [0, 1, 0xFFFFFFFF, 0xE3069283, *rng.integers(0, 2**32, 20).tolist()]:
        assert unmask_crc(mask_crc(crc)) == crc
        assert mask_crc(crc) != crc
        assert 0 <= mask_crc(crc) < 2**32


# ------------------------------------------------------------------------------------------
# protobuf wire format and OrderedCode keys
def test_protobuf_varint_and_packed_examples_from_the_encoding_guide():
    assert tfckpt._parse_message(bytes.fromhex("089601")) == {1: [(0, 150)]}
    fields = tfckpt._parse_message(bytes.fromhex("2206038e029ea705"))
    assert tfckpt._repeated_numbers(fields, 4, "varint").tolist() == [3, 270, 86942]
    # int64 -1 is ten bytes on the wire
    assert tfckpt._get_signed(tfckpt._parse_message(bytes.fromhex("08ffffffffffffffffff01")), 1) == -1


def test_protobuf_unpacked_repeated_fixed32_floats():
    msg = b"".join(b"\x2d" + struct.pack("<f", v) for v in (1.5, -2.0, 3.25))  # field 5, wire type 5
    raw = tfckpt._repeated_numbers(tfckpt._parse_message(msg), 5, "fixed32")
    assert raw.view(np.float32).tolist() == [1.5, -2.0, 3.25]


def test_protobuf_rejects_truncated_and_group_fields():
    with pytest.raises(tfckpt._Corrupt, match="runs past the end"):
        tfckpt._parse_message(b"\x0a\x05ab")
    with pytest.raises(tfckpt._Corrupt, match="wire type 3"):
        tfckpt._parse_message(b"\x0b")


# TensorFlow's ordered_code_test.cc (EncodingIsExpected, Signed)
SIGNED_VECTORS = [
    (0, b"\x80"), (1, b"\x81"), (63, b"\xbf"), (64, b"\xc0@"), (256, b"\xc1\x00"),
    (1048576, b"\xf0\x10\x00\x00"), (281474976710656, b"\xff\x01" + bytes(6)),
    (36028797018963968, b"\xff\x80\x80" + bytes(6)), (9223372036854775807, b"\xff\xc0\x7f" + b"\xff" * 7),
    (-1, b"\x7f"), (-64, b"@"), (-65, b"?\xbf"), (-8193, b"\x1f\xdf\xff"),
    (-2147483649, b"\x07\x7f\xff\xff\xff"), (-2199023255553, b"\x01\xfd" + b"\xff" * 5),
    (-9223372036854775807, b"\x00?\x80" + bytes(6) + b"\x01"),
]


@pytest.mark.parametrize("value, encoded", SIGNED_VECTORS)
def test_ordered_code_signed_numbers(value, encoded):
    assert tfckpt._ordered_signed(encoded + b"tail", 0) == (value, len(encoded))


def test_slice_key_decoding():
    # OrderedCode strings escape 0x00 as 00 ff and 0xff as ff 00, and end with 00 01
    assert tfckpt._ordered_string(b"a\x00\xffb\xff\x00c\x00\x01rest", 0) == (b"a\x00b\xffc", 9)
    key = b"\x00" + b"w/x\x00\xffy" + b"\x00\x01" + b"\x01\x02" + b"\x80\x7f" + b"\xc0@\x81"
    assert tfckpt._decode_slice_key(key) == ("w/x\x00y", [(0, -1), (64, 1)])


def test_assemble_partitioned_tensor_from_hand_made_slices():
    full = np.arange(24, dtype=np.float32).reshape(4, 6)
    pieces = [([(0, 1), (0, -1)], full[:1]), ([(1, 3), (0, 4)], full[1:, :4]), ([(1, 3), (4, 2)], full[1:, 4:])]
    assert np.array_equal(tfckpt._assemble("x", (4, 6), pieces), full)
    with pytest.raises(tfckpt._Corrupt, match="tensor 'x': its saved slices do not cover every element exactly once"):
        tfckpt._assemble("x", (4, 6), pieces[:2])
    with pytest.raises(tfckpt._Corrupt, match=r"slice extent \(3, 2\) is outside its shape \(4, 6\)"):
        tfckpt._assemble("x", (4, 6), [([(3, 2), (0, -1)], full[:2])])


def test_tensor_proto_typed_values_and_repeat_last_rule():
    dt = tfckpt._DTYPES
    floats = tfckpt._parse_message(b"\x2a\x08" + struct.pack("<2f", 0.5, -1.0))  # float_val packed
    assert tfckpt._tensor_proto_values(floats, dt[1], 2, "f").tolist() == [0.5, -1.0]
    assert tfckpt._tensor_proto_values(floats, dt[1], 4, "f").tolist() == [0.5, -1.0, -1.0, -1.0]
    ints = tfckpt._parse_message(bytes.fromhex("3a0b") + bytes.fromhex("05ffffffffffffffffff01"))[7]
    values = tfckpt._tensor_proto_values({7: ints}, dt[3], 2, "i")
    assert values.dtype == np.int32 and values.tolist() == [5, -1]
    halves = tfckpt._parse_message(bytes.fromhex("6a05") + bytes.fromhex("807f") + bytes.fromhex("80fe02"))
    # half_val holds bit patterns: 0x3f80 (bfloat16 1.0) and 0xbf00 (bfloat16 -0.5)
    bf = tfckpt._finish(tfckpt._tensor_proto_values(halves, dt[14], 2, "b"), dt[14])
    assert bf.dtype == np.float32 and bf.tolist() == [1.0, -0.5]
    with pytest.raises(tfckpt._Corrupt, match="tensor 'f' slice holds 2 values, expected 1"):
        tfckpt._tensor_proto_values(floats, dt[1], 1, "f")


def test_skipped_string_variables_are_named_in_a_warning():
    with pytest.warns(UserWarning, match=r"skipped non-numeric checkpoint variables \(they hold no weights\): "
                                         r"save/names \(string\), res \(resource\)"):
        tfckpt._warn_skipped(["save/names", "res"], {"save/names": "string", "res": "resource"})


def test_bfloat16_and_big_endian_storage_are_converted():
    bits = np.array([0x3F80, 0xC040, 0x0000], dtype="<u2")  # 1.0, -3.0, 0.0
    assert tfckpt._finish(bits, tfckpt._DTYPES[14]).tolist() == [1.0, -3.0, 0.0]
    entry = tfckpt._Entry(tfckpt._DTYPES[3], (2,), 0, 0, 8, None, ())
    out = tfckpt._v2_array("t", entry, struct.pack(">2i", 7, -2), big_endian=True)
    assert out.tolist() == [7, -2] and out.dtype == np.int32


# ------------------------------------------------------------------------------------------
# V2 bundle (TensorFlow-written fixture)
def test_v2_every_variable_equals_expected_exactly(v2_dir, v2_prefix):
    expected = _expected(v2_dir)
    got = read_checkpoint(v2_prefix)
    assert sorted(got) == sorted(expected)
    for name, want in expected.items():
        assert got[name].dtype == want.dtype, name
        assert got[name].shape == want.shape, name
        assert np.array_equal(got[name], want), name
    assert got["global_step"].dtype == np.int64 and got["scalar_f64"].dtype == np.float64


def test_v2_list_variables_matches_expected_without_reading_data(v2_dir, v2_prefix, tmp_path):
    expected = _expected(v2_dir)
    shutil.copyfile(v2_dir / "model.index", tmp_path / "model.index")  # no data shard needed
    listed = list_variables(tmp_path / "model")
    assert listed == {n: (str(a.dtype), a.shape) for n, a in expected.items()}
    assert listed["global_step"] == tfckpt.VariableInfo("int64", ())


@pytest.mark.parametrize("form", ["model", "model.index", "model.data-00000-of-00001"])
def test_v2_path_forms(v2_dir, form):
    got = read_checkpoint(v2_dir / form)
    assert np.array_equal(got["scalar_f64"], _expected(v2_dir)["scalar_f64"])


def test_v2_prefix_filter(v2_prefix):
    got = read_checkpoint(v2_prefix, prefixes=("generator/", "fnet/"))
    assert sorted(got) == [
        "fnet/autoencode_unit/output_stage/conv2/Conv/biases",
        "generator/generator_unit/Adam_1",
        "generator/generator_unit/conv_tran2highres/conv_tran1/Conv2d_transpose/weights",
        "generator/generator_unit/input_stage/conv/Conv/biases",
        "generator/generator_unit/input_stage/conv/Conv/weights",
    ]
    assert list(read_checkpoint(v2_prefix, prefixes="global")) == ["global_step"]


# ------------------------------------------------------------------------------------------
# V1 single file (EnhanceNet's released weights)
def _enet_names() -> list[str]:
    convs = ["Conv"] + [f"Conv_{i}" for i in range(1, 25)]
    return sorted(f"generator/{c}/{p}" for c in convs for p in ("weights", "biases"))


def _enet_shape(name: str) -> tuple[int, ...]:
    conv, part = name.split("/")[1:]
    c_in = 3 if conv == "Conv" else 64
    c_out = 3 if conv == "Conv_24" else 64
    return (3, 3, c_in, c_out) if part == "weights" else (c_out,)


def test_v1_enhancenet_variables(v1_file):
    got = read_checkpoint(v1_file)
    assert sorted(got) == _enet_names()
    assert {n: a.shape for n, a in got.items()} == {n: _enet_shape(n) for n in _enet_names()}
    assert all(a.dtype == np.float32 for a in got.values())
    assert sum(a.size for a in got.values()) == ENET_PARAMS
    assert all(np.isfinite(a).all() for a in got.values())
    assert list_variables(v1_file) == {n: ("float32", _enet_shape(n)) for n in _enet_names()}


@pytest.mark.parametrize("given", ["w.ckpt", "w.ckpt-00000-of-00001"])
def test_v1_sharded_naming(v1_file, tmp_path, given):
    shutil.copyfile(v1_file, tmp_path / "w.ckpt-00000-of-00001")
    assert sorted(read_checkpoint(tmp_path / given)) == _enet_names()


def test_v1_prefix_filter_reads_only_the_selected(v1_file):
    got = read_checkpoint(v1_file, prefixes=("generator/Conv_24/",))
    assert sorted(got) == ["generator/Conv_24/biases", "generator/Conv_24/weights"]
    assert read_checkpoint(v1_file, prefixes=("fnet/",)) == {}


# ------------------------------------------------------------------------------------------
# errors (one line each, pinned)
def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x10
    path.write_bytes(bytes(data))


def test_v1_flipped_byte_is_a_checksum_error_naming_the_tensor(v1_file, tmp_path):
    copy = tmp_path / "weights"
    shutil.copyfile(v1_file, copy)
    _flip(copy, copy.stat().st_size // 2)
    with pytest.raises(WeightsError, match=r"checksum mismatch in the data block holding tensors? "
                                           r"('generator/Conv(_\d+)?/(weights|biases)'(, )?)+ at byte \d+ "
                                           r".*the checkpoint file is corrupt"):
        read_checkpoint(copy)


def test_v2_flipped_data_byte_is_a_checksum_error_naming_the_tensor(v2_copy):
    data = Path(str(v2_copy) + ".data-00000-of-00001")
    name = "generator/generator_unit/input_stage/conv/Conv/weights"
    _flip(data, tfckpt._v2_entries(tfckpt._locate(v2_copy))[name].offset + 100)
    with pytest.raises(WeightsError, match=r"checksum mismatch for tensor 'generator/generator_unit/"
                                           r"input_stage/conv/Conv/weights' in .*the checkpoint is corrupt"):
        read_checkpoint(v2_copy)


def test_v2_flipped_index_byte_is_a_checksum_error(v2_copy):
    _flip(Path(str(v2_copy) + ".index"), 20)
    with pytest.raises(WeightsError, match="checksum mismatch in the data block holding"):
        list_variables(v2_copy)


def test_truncated_v1_file(v1_file, tmp_path):
    copy = tmp_path / "weights"
    copy.write_bytes(v1_file.read_bytes()[:1_000_000])
    with pytest.raises(WeightsError, match=r"\(1000000 bytes\) is a truncated TensorFlow checkpoint table: "
                                           r"it starts like one but its end .* is missing"):
        read_checkpoint(copy)


def test_truncated_v2_data_shard(v2_copy):
    data = Path(str(v2_copy) + ".data-00000-of-00001")
    data.write_bytes(data.read_bytes()[:5000])
    with pytest.raises(WeightsError, match=r"data shard .*model.data-00000-of-00001' is truncated: tensor "
                                           r"'.*' needs bytes \d+\.\.\d+ but the file has 5000 bytes"):
        read_checkpoint(v2_copy)


def test_missing_v2_data_shard_is_named(v2_dir, tmp_path):
    shutil.copyfile(v2_dir / "model.index", tmp_path / "model.index")
    with pytest.raises(WeightsError, match=r"data shard '.*model.data-00000-of-00001' of checkpoint .* is missing "
                                           r"\(needed for tensor '.*'\)"):
        read_checkpoint(tmp_path / "model")


def test_random_file_is_not_a_checkpoint(tmp_path, rng):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x89PNG" + rng.integers(0, 256, 4000, dtype=np.uint8).tobytes())
    with pytest.raises(WeightsError, match=r"junk.bin' \(4004 bytes\) is not a TensorFlow checkpoint: its last 8 "
                                           r"bytes are not the table magic 0xdb4775248b80fb57"):
        read_checkpoint(junk)


def test_missing_path_says_which_files_were_expected(tmp_path):
    with pytest.raises(WeightsError, match=r"TensorFlow checkpoint not found at '.*nothing': expected "
                                           r"'.*nothing.index' with '.*nothing'.data-00000-of-0000N next to it "
                                           r"\(format V2\), or a single-file checkpoint '.*nothing' \(format V1\)"):
        list_variables(tmp_path / "nothing")


def test_folder_path_points_at_the_prefix(v2_copy):
    with pytest.raises(WeightsError, match=r"is a folder, not a TensorFlow checkpoint prefix or file "
                                           r"\(it holds model.index: pass '.*model'\)"):
        read_checkpoint(v2_copy.parent)


def test_v2_index_passed_as_v1_file_is_explained(v2_dir, tmp_path):
    lonely = tmp_path / "lonely"
    shutil.copyfile(v2_dir / "model.index", lonely)
    with pytest.raises(WeightsError, match="has no SavedTensorSlices meta: it is not a V1 checkpoint"):
        read_checkpoint(lonely)


def test_snappy_compressed_block_is_refused(v2_copy):
    index = Path(str(v2_copy) + ".index")
    data = bytearray(index.read_bytes())
    table = tfckpt._Table(index)
    offset, size = table.handles[0]
    data[offset + size] = 1  # compression type: snappy; re-seal the block's crc so only that differs
    data[offset + size + 1: offset + size + 5] = mask_crc(crc32c(bytes(data[offset: offset + size + 1]))).to_bytes(4, "little")
    index.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match=r"a data block at byte 0 is snappy-compressed; TensorFlow writes "
                                           r"checkpoints uncompressed and vsrbench reads only uncompressed tables"):
        read_checkpoint(v2_copy)


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes(out + bytes([value]))


def _replace_footer_handles(index: Path, handles: bytes) -> None:
    data = index.read_bytes()
    index.write_bytes(data[:-48] + handles.ljust(40, b"\x00") + data[-8:])


def test_block_handle_past_the_end_of_the_file(v2_copy):
    index = Path(str(v2_copy) + ".index")
    size = index.stat().st_size
    _replace_footer_handles(index, b"".join(_encode_varint(v) for v in (0, 0, size * 2, 100)))
    with pytest.raises(WeightsError, match=rf"model.index': the index block at byte {size * 2} \(size 100\) runs "
                                           rf"past the end of the file \({size} bytes\): the file is truncated or corrupt"):
        read_checkpoint(v2_copy)


def test_corrupt_footer(v2_copy):
    _replace_footer_handles(Path(str(v2_copy) + ".index"), b"\xff" * 40)
    with pytest.raises(WeightsError, match=r"model.index' has a corrupt table footer: the checkpoint file is damaged"):
        list_variables(v2_copy)


def test_error_messages_are_one_line(tmp_path):
    with pytest.raises(WeightsError) as info:
        read_checkpoint(tmp_path / "nothing")
    assert "\n" not in str(info.value)
