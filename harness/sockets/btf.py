"""Field offsets of kernel structures, read from the kernel's own BTF (/sys/kernel/btf/vmlinux).

A kprobe event fetches ``+OFFSET(%di)``: the offset of ``sk_wmem_queued`` in ``struct sock``
differs between kernel builds, so it is looked up in the running kernel's BTF, never written
down.  The format is the kernel's (Documentation/bpf/btf.rst, include/uapi/linux/btf.h): a
header, then ``struct btf_type`` records (12 bytes plus a kind-dependent tail), then strings.
Anonymous struct/union members are searched through, as C lets a field name reach into them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

BTF_PATH = "/sys/kernel/btf/vmlinux"
MAGIC = 0xEB9F

INT, PTR, ARRAY, STRUCT, UNION, ENUM, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT = range(1, 12)
FUNC, FUNC_PROTO, VAR, DATASEC, FLOAT, DECL_TAG, TYPE_TAG, ENUM64 = range(12, 20)
# Bytes that follow the 12-byte btf_type for each kind: (fixed, per vlen entry).
_TAIL = {INT: (4, 0), ARRAY: (12, 0), STRUCT: (0, 12), UNION: (0, 12), ENUM: (0, 8),
         FUNC_PROTO: (0, 8), VAR: (4, 0), DATASEC: (0, 12), DECL_TAG: (4, 0), ENUM64: (0, 12)}
_MODIFIERS = (TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG)


class BtfError(LookupError):
    pass


@dataclass(frozen=True)
class Type:
    kind: int
    name: str
    size_or_type: int
    members: tuple[tuple[str, int, int], ...] = ()  # (name, type id, bit offset)


@dataclass(frozen=True)
class Field:
    offset: int  # bytes from the start of the outer structure
    size: int    # bytes of the field's type


class Btf:
    """The types of one BTF blob, decoded only as far as a lookup needs.

    The kernel's BTF holds over 100,000 types, and a witness asks for a dozen fields: one
    pass records where each type starts (its id is its position) and which ids are structs
    by name; a type's members are decoded when a lookup reaches it.  Under TCG, where the
    suite runs in guests, decoding every type cost about ten seconds per kernel.
    """

    def __init__(self, data: bytes) -> None:
        magic, _version, _flags, hdr_len = struct.unpack_from("<HBBI", data, 0)
        if magic != MAGIC:
            raise BtfError("not BTF data (bad magic)")
        type_off, type_len, str_off, str_len = struct.unpack_from("<IIII", data, 8)
        self._data = data
        self._strings = data[hdr_len + str_off: hdr_len + str_off + str_len]
        self._starts: list[int] = [0]  # type id 0 is void
        self._structs: dict[int, int] = {}  # name offset -> first struct of that name
        self._decoded: dict[int, Type] = {}
        head, tail, starts = struct.Struct("<II").unpack_from, _TAIL.get, self._starts
        pos, end = hdr_len + type_off, hdr_len + type_off + type_len
        while pos < end:
            name_off, info = head(data, pos)
            kind, vlen = (info >> 24) & 0x1F, info & 0xFFFF
            starts.append(pos)
            if kind == STRUCT and name_off not in self._structs:
                self._structs[name_off] = len(starts) - 1
            fixed, per = tail(kind, (0, 0))
            pos += 12 + fixed + per * vlen

    def type(self, tid: int) -> Type | None:
        """Type ``tid`` (None for void), decoded on first use."""
        if tid == 0:
            return None
        t = self._decoded.get(tid)
        if t is None:
            pos = self._starts[tid]
            name_off, info, size_or_type = struct.unpack_from("<III", self._data, pos)
            kind, vlen, kflag = (info >> 24) & 0x1F, info & 0xFFFF, info >> 31
            members = ()
            if kind in (STRUCT, UNION):
                members = tuple((_str(self._strings, m_name), m_type, (m_off & 0xFFFFFF) if kflag else m_off)
                                for m_name, m_type, m_off in struct.iter_unpack(
                                    "<III", self._data[pos + 12: pos + 12 + 12 * vlen]))
            t = self._decoded[tid] = Type(kind, _str(self._strings, name_off), size_or_type, members)
        return t

    def struct_id(self, name: str) -> int | None:
        """The id of the first ``struct name`` (None if there is none)."""
        needle, found, at = b"\0" + name.encode() + b"\0", [], 0
        while (at := self._strings.find(needle, at)) >= 0:  # a name may be stored more than once
            tid = self._structs.get(at + 1)
            if tid is not None:
                found.append(tid)
            at += 1
        return min(found, default=None)

    @classmethod
    def load(cls, path: str = BTF_PATH) -> "Btf":
        try:
            with open(path, "rb") as f:
                return cls(f.read())
        except OSError as exc:
            raise BtfError(f"no kernel BTF at {path}: {exc.strerror} (CONFIG_DEBUG_INFO_BTF)") from exc

    def _resolve(self, tid: int) -> Type:
        t = self.type(tid)
        while t is not None and t.kind in _MODIFIERS:
            t = self.type(t.size_or_type)
        if t is None:
            raise BtfError("void type")
        return t

    def size(self, tid: int) -> int:
        t = self._resolve(tid)
        if t.kind == PTR:
            return 8
        if t.kind == ARRAY:
            raise BtfError("array fields are not fetched")
        return t.size_or_type

    def _member(self, t: Type, name: str) -> tuple[int, int] | None:
        """(bit offset, type id) of ``name`` in ``t``, looking into anonymous members."""
        for m_name, m_type, m_bits in t.members:
            if m_name == name:
                return m_bits, m_type
            if not m_name:
                inner = self._resolve(m_type)
                if inner.kind in (STRUCT, UNION):
                    found = self._member(inner, name)
                    if found is not None:
                        return m_bits + found[0], found[1]
        return None

    def field(self, struct_name: str, path: str) -> Field:
        """``field("tcp_sock", "write_seq")``, ``field("sock", "__sk_common.skc_num")``."""
        tid = self.struct_id(struct_name)
        if tid is None:
            raise BtfError(f"no struct {struct_name} in the kernel's BTF")
        bits, t = 0, self.type(tid)
        for part in path.split("."):
            found = self._member(t, part)
            if found is None:
                raise BtfError(f"struct {struct_name} has no field {path}")
            bits += found[0]
            tid = found[1]
            t = self._resolve(tid)
        if bits % 8:
            raise BtfError(f"{struct_name}.{path} is a bit field")
        return Field(bits // 8, self.size(tid))


def _str(strings: bytes, off: int) -> str:
    end = strings.index(b"\0", off)
    return strings[off:end].decode()
