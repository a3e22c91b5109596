"""A minimal Outlook .msg writer for tests: no Python library writes MSG files.

An MSG file is an OLE2 compound file (CFB, [MS-CFB]) holding MAPI properties ([MS-OXMSG]).
This writes a version-3 compound file (512-byte sectors; streams under 4096 bytes in the mini
stream) with a subject, a plain-text body, a sender and attachments, which is what the reader
under test looks at.
"""

from __future__ import annotations

import struct
from pathlib import Path

FREE, END, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
SECTOR, MINI, CUTOFF = 512, 64, 4096
PTYP_INT32, PTYP_STRING, PTYP_BINARY = 0x0003, 0x001F, 0x0102


def _cfb_key(name: str):
    return (len(name), name.upper())


def write_cfb(path: Path, tree: dict) -> None:
    """Write `tree` ({name: bytes for a stream, name: dict for a storage}) as a compound file."""
    entries: list[dict] = [{"name": "Root Entry", "type": 5, "children": tree}]
    queue = [0]
    while queue:  # number the entries breadth first, children sorted the CFB way
        index = queue.pop(0)
        children = entries[index]["children"]
        ids = []
        for name in sorted(children, key=_cfb_key):
            value = children[name]
            entry = {"name": name, "type": 1 if isinstance(value, dict) else 2}
            if isinstance(value, dict):
                entry["children"] = value
            else:
                entry["data"] = value
            entries.append(entry)
            ids.append(len(entries) - 1)
            if isinstance(value, dict):
                queue.append(len(entries) - 1)
        entries[index]["child"] = ids[0] if ids else NOSTREAM
        for a, b in zip(ids, ids[1:] + [NOSTREAM]):  # siblings as a right-leaning chain (a valid BST)
            entries[a]["right"] = b

    mini_stream, mini_fat = bytearray(), []
    big_streams = []
    for entry in entries:
        data = entry.get("data")
        if data is None:
            continue
        entry["size"] = len(data)
        if not data:
            entry["start"] = END
        elif len(data) < CUTOFF:
            first = len(mini_stream) // MINI
            count = -(-len(data) // MINI)
            mini_fat.extend(list(range(first + 1, first + count)) + [END])
            mini_stream += data + b"\0" * (count * MINI - len(data))
            entry["start"] = first
        else:
            big_streams.append(entry)

    def sectors(n_bytes: int) -> int:
        return -(-n_bytes // SECTOR)

    n_dir = sectors(len(entries) * 128)
    n_minifat = sectors(len(mini_fat) * 4)
    n_ministream = sectors(len(mini_stream))
    n_big = [sectors(len(e["data"])) for e in big_streams]
    rest = n_dir + n_minifat + n_ministream + sum(n_big)
    n_fat = 1
    while (rest + n_fat) > n_fat * (SECTOR // 4):
        n_fat += 1
    assert n_fat <= 109, "test file too large for a header-only DIFAT"

    fat = [FATSECT] * n_fat

    def chain(count: int) -> int:
        if count == 0:
            return END
        first = len(fat)
        fat.extend(list(range(first + 1, first + count)) + [END])
        return first

    dir_start = chain(n_dir)
    minifat_start = chain(n_minifat)
    ministream_start = chain(n_ministream)
    for entry, count in zip(big_streams, n_big):
        entry["start"] = chain(count)
    fat += [FREE] * (n_fat * (SECTOR // 4) - len(fat))

    entries[0]["start"], entries[0]["size"] = (ministream_start, len(mini_stream)) if mini_stream else (END, 0)
    directory = bytearray()
    for entry in entries:
        name = entry["name"].encode("utf-16-le")
        directory += struct.pack(
            "<64sHBBIII16sIQQIQ",
            name,
            len(name) + 2,
            entry["type"],
            1,
            NOSTREAM,
            entry.get("right", NOSTREAM),
            entry.get("child", NOSTREAM),
            b"\0" * 16,
            0,
            0,
            0,
            entry.get("start", 0),
            entry.get("size", 0),
        )
    while len(directory) % SECTOR:
        directory += struct.pack(
            "<64sHBBIII16sIQQIQ", b"", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM, b"\0" * 16, 0, 0, 0, 0, 0
        )

    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        bytes.fromhex("D0CF11E0A1B11AE1"),
        b"\0" * 16,
        0x3E,
        3,
        0xFFFE,
        9,
        6,
        b"\0" * 6,
        0,
        n_fat,
        dir_start,
        0,
        CUTOFF,
        minifat_start if n_minifat else END,
        n_minifat,
        END,
        0,
    )
    header += struct.pack("<109I", *(list(range(n_fat)) + [FREE] * (109 - n_fat)))

    def padded(data: bytes, count: int) -> bytes:
        return bytes(data) + b"\0" * (count * SECTOR - len(data))

    body = struct.pack(f"<{len(fat)}I", *fat) + bytes(directory)
    body += padded(struct.pack(f"<{len(mini_fat)}I", *mini_fat) if mini_fat else b"", n_minifat)
    body += padded(mini_stream, n_ministream)
    for entry, count in zip(big_streams, n_big):
        body += padded(entry["data"], count)
    Path(path).write_bytes(header + body)


def _properties(props: list[tuple[int, int, object]], header: bytes) -> tuple[bytes, dict]:
    """The __properties_version1.0 stream and the __substg1.0_ streams for (pid, ptyp, value)."""
    stream, streams = bytearray(header), {}
    for pid, ptyp, value in props:
        tag = (pid << 16) | ptyp
        if ptyp == PTYP_INT32:
            stream += struct.pack("<IIiI", tag, 6, value, 0)
            continue
        data = value.encode("utf-16-le") if ptyp == PTYP_STRING else bytes(value)
        streams[f"__substg1.0_{pid:04X}{ptyp:04X}"] = data
        size = len(data) + 2 if ptyp == PTYP_STRING else len(data)
        stream += struct.pack("<IIII", tag, 6, size, 0)
    return bytes(stream), streams


def write_msg(path: Path, subject: str, body: str, sender: str, attachments: list[tuple[str, bytes]]) -> None:
    props, streams = _properties(
        [
            (0x001A, PTYP_STRING, "IPM.Note"),
            (0x0037, PTYP_STRING, subject),
            (0x1000, PTYP_STRING, body),
            (0x0C1F, PTYP_STRING, sender),
        ],
        struct.pack("<8xIIII8x", 0, len(attachments), 0, len(attachments)),
    )
    tree: dict = {"__properties_version1.0": props, **streams}
    for number, (name, data) in enumerate(attachments):
        a_props, a_streams = _properties(
            [
                (0x3705, PTYP_INT32, 1),
                (0x3707, PTYP_STRING, name),
                (0x3704, PTYP_STRING, name),
                (0x3701, PTYP_BINARY, data),
            ],
            b"\0" * 8,
        )
        tree[f"__attach_version1.0_#{number:08X}"] = {"__properties_version1.0": a_props, **a_streams}
    write_cfb(path, tree)
