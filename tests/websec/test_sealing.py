"""Sealing at rest: what is stored says nothing without the key file, and every key in the ring still opens."""

from __future__ import annotations

import os
import stat
import sys

import pytest

from websec.sealing import KeyRing, SealingError, load_key_ring, new_key_ring, save_key_ring

ID = "110105194912310021"


def test_a_sealed_value_hides_the_number_and_opens_again():
    ring = new_key_ring()
    stored = ring.seal(ID)
    assert ID not in stored and stored != ring.seal(ID)  # a fresh nonce each time
    assert ring.unseal(stored) == ID
    assert ring.seal("") == "" and ring.unseal("") == ""


def test_text_handed_over_as_its_utf8_bytes_opens_as_the_same_text():
    # the hub seals event bodies as orjson writes them (bytes), and reads them back as text
    text = '{"applicant":{"name":"𠮷野家","id_number":"' + ID + '"}}'
    ring = new_key_ring()
    stored = ring.seal(text.encode("utf-8"))
    assert ID not in stored
    assert ring.unseal(stored) == text
    assert ring.seal(b"") == ""


def test_a_value_stored_before_sealing_reads_as_it_was():
    assert new_key_ring().unseal("13912345678") == "13912345678"


def test_another_machines_key_or_an_altered_value_is_refused_with_a_message():
    stored = new_key_ring().seal(ID)
    with pytest.raises(SealingError, match="没有编号"):
        new_key_ring().unseal(stored)
    ring = new_key_ring()
    stored = ring.seal(ID)
    altered = stored[:-6] + ("A" if stored[-6] != "A" else "B") + stored[-5:]
    with pytest.raises(SealingError, match="无法解开"):
        ring.unseal(altered)


def test_files_are_sealed_and_old_plain_files_still_read():
    ring = new_key_ring()
    scan = b"\xff\xd8\xff" + ID.encode() * 10
    sealed = ring.seal_bytes(scan)
    assert ID.encode() not in sealed
    assert ring.unseal_bytes(sealed) == scan
    assert ring.unseal_bytes(scan) == scan


def test_the_blind_index_finds_the_same_number_whatever_its_case_and_is_keyed():
    ring = new_key_ring()
    assert ring.blind_index("11010519491231002x") == ring.blind_index("11010519491231002X ")
    assert ring.blind_index(ID) != new_key_ring().blind_index(ID)
    assert ID not in ring.blind_index(ID)


def test_a_rotated_ring_opens_old_records_seals_with_the_new_key_and_finds_both_indexes():
    ring = new_key_ring()
    old = ring.seal(ID)
    old_index = ring.blind_index(ID)
    rotated = ring.rotated()
    assert rotated.unseal(old) == ID
    assert rotated.needs_resealing(old) and not rotated.needs_resealing(rotated.seal(ID))
    assert old_index in rotated.blind_indexes(ID) and rotated.blind_index(ID) != old_index
    finished = rotated.retired()
    with pytest.raises(SealingError):
        finished.unseal(old)
    assert finished.unseal(rotated.seal(ID)) == ID


def test_the_key_file_is_created_owner_only_and_read_back(tmp_path):
    path = tmp_path / "keys" / "data.key"
    ring = load_key_ring(path)
    if sys.platform != "win32":
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = load_key_ring(path)
    assert again.unseal(ring.seal(ID)) == ID
    rotated = again.rotated()
    save_key_ring(rotated)
    assert isinstance(load_key_ring(path), KeyRing) and load_key_ring(path).current == rotated.current


def test_a_missing_key_file_is_not_silently_replaced(tmp_path):
    with pytest.raises(SealingError, match="找不到密钥文件"):
        load_key_ring(tmp_path / "data.key", create=False)


def _sealed_file(tmp_path, ring: KeyRing, data: bytes):  # noqa: ANN202
    path = tmp_path / "scan"
    path.write_bytes(ring.seal_bytes(data))
    return path


@pytest.mark.parametrize("start", [0, 1, 300_000, 1_048_575, 1_048_576, 2_500_000])
def test_a_sealed_file_reads_in_pieces_from_any_offset(tmp_path, start):
    ring = new_key_ring()
    data = os.urandom(2_500_000)  # more than two reads of the file
    opened = ring.open_file(_sealed_file(tmp_path, ring, data))
    pieces = list(opened.chunks(start, 256 * 1024))
    assert opened.size == len(data)
    assert b"".join(pieces) == data[start:]
    assert all(len(p) == 256 * 1024 for p in pieces[:-1])


def test_a_plain_file_from_before_sealing_reads_in_pieces_too(tmp_path):
    path = tmp_path / "old"
    path.write_bytes(b"%PDF-1.4 old scan" * 1000)
    opened = new_key_ring().open_file(path)
    assert opened.size == 17_000 and b"".join(opened.chunks(5, 4096)) == path.read_bytes()[5:]


def test_a_big_sealed_file_is_never_held_whole_in_memory(tmp_path):
    import tracemalloc

    ring = new_key_ring()
    path = _sealed_file(tmp_path, ring, os.urandom(8 * 1024 * 1024))
    tracemalloc.start()
    try:
        read = sum(len(piece) for piece in ring.open_file(path).chunks(0, 256 * 1024))
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert read == 8 * 1024 * 1024
    assert peak < 2 * 1024 * 1024, peak  # a read of the file and a piece or two: not 8 MB (nor 16 sealed + plain)


@pytest.mark.parametrize("size", [600_000, 512 * 1024])  # the last piece short, or a whole one
def test_an_altered_sealed_file_gives_out_no_last_piece(tmp_path, size):
    ring = new_key_ring()
    data = os.urandom(size)
    path = _sealed_file(tmp_path, ring, data)
    raw = bytearray(path.read_bytes())
    raw[-100] ^= 1  # a byte near the end of the scan
    path.write_bytes(bytes(raw))
    given = []
    with pytest.raises(SealingError, match="文件被改动"):
        for piece in ring.open_file(path).chunks(0, 256 * 1024):
            given.append(piece)
    assert sum(map(len, given)) < len(data)  # the receiver never holds the whole file
