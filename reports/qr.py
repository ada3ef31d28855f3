"""A fast QR code encoder for the pay links on notices (ISO/IEC 18004, byte mode, one fixed mask).

The `qrcode` package takes about 1.2 ms to encode a pay URL in pure Python (bit-by-bit buffers,
polynomial objects for Reed-Solomon, a module-by-module placement), which was the largest single cost of a
notice page. This encoder produces the same symbol (the tests compare it module for module with
`qrcode` at the same version, error-correction level and mask) in about a tenth of the time:

- what does not depend on the data is computed once per (version, level, mask) and kept: the function
  patterns (finders, timing, alignment, format and version information, taken from `qrcode` itself so
  the standard's tables live in one place), the order in which data modules are filled, and the mask;
- the data bits are built with integer arithmetic, Reed-Solomon uses precomputed rows of the generator
  multiplied by each possible factor, and the symbol is assembled row by row.

Byte mode only (UTF-8), which is what `qrcode` itself chooses for a URL with lower-case letters.
"""

from __future__ import annotations

from functools import cache
from operator import itemgetter

import qrcode
import qrcode.base
import qrcode.constants
import qrcode.util

LEVELS = {"L": qrcode.constants.ERROR_CORRECT_L, "M": qrcode.constants.ERROR_CORRECT_M,
          "Q": qrcode.constants.ERROR_CORRECT_Q, "H": qrcode.constants.ERROR_CORRECT_H}
_EXP = qrcode.base.EXP_TABLE
_LOG = qrcode.base.LOG_TABLE
_PAD = (0xEC, 0x11)


class _Template:
    """Everything about a symbol of one version, level and mask that does not depend on the data."""

    def __init__(self, version: int, level: int, mask: int) -> None:
        q = qrcode.QRCode(version=version, error_correction=level, mask_pattern=mask, border=0)
        n = q.modules_count = version * 4 + 17
        q.modules = [[None] * n for _ in range(n)]
        q.setup_position_probe_pattern(0, 0)
        q.setup_position_probe_pattern(n - 7, 0)
        q.setup_position_probe_pattern(0, n - 7)
        q.setup_position_adjust_pattern()
        q.setup_timing_pattern()
        q.setup_type_info(False, mask)
        if version >= 7:
            q.setup_type_number(False)
        self.size = n
        self.base = [[bool(m) for m in row] for row in q.modules]
        # Data module order: two-column zigzag from the bottom right, skipping the vertical timing column.
        masked = qrcode.util.mask_func(mask)
        coords: list[tuple[int, int, bool]] = []
        row, inc = n - 1, -1
        for col in range(n - 1, 0, -2):
            if col <= 6:
                col -= 1
            while True:
                for c in (col, col - 1):
                    if q.modules[row][c] is None:
                        coords.append((row, c, bool(masked(row, c))))
                row += inc
                if row < 0 or row >= n:
                    row -= inc
                    inc = -inc
                    break
        self.coords = coords
        # Row-major source of every module: data modules read position k of the masked data bits, function
        # modules read one of two constant characters appended after them ("0", "1").
        k_of = {(r, c): k for k, (r, c, _f) in enumerate(coords)}
        light, dark = len(coords), len(coords) + 1
        src = [k_of.get((r, c), dark if self.base[r][c] else light) for r in range(n) for c in range(n)]
        self.pick = itemgetter(*src)
        self.flips = int("".join("1" if f else "0" for _r, _c, f in coords), 2)
        blocks = qrcode.base.rs_blocks(version, level)
        self.blocks = [(b.data_count, b.total_count - b.data_count) for b in blocks]
        self.data_bytes = sum(d for d, _ in self.blocks)
        self.count_bits = qrcode.util.length_in_bits(qrcode.util.MODE_8BIT_BYTE, version)


@cache
def _template(version: int, level: int, mask: int) -> _Template:
    return _Template(version, level, mask)


@cache
def _generator_rows(ec_count: int) -> list[int]:
    """For each lead factor f (0-255): the generator polynomial's coefficients times f in GF(256), packed
    big-endian into one integer (so a division step is a shift and an XOR)."""
    gen = [1]
    for i in range(ec_count):  # (x - a^0)(x - a^1)...(x - a^(n-1))
        nxt = [0] * (len(gen) + 1)
        for j, g in enumerate(gen):
            nxt[j] ^= g
            if g:
                nxt[j + 1] ^= _EXP[(_LOG[g] + i) % 255]
        gen = nxt
    logs = [_LOG[g] for g in gen[1:]]  # every coefficient is non-zero
    rows = [0]
    for f in range(1, 256):
        lf = _LOG[f]
        rows.append(int.from_bytes(bytes(_EXP[(lf + lg) % 255] for lg in logs), "big"))
    return rows


def _ecc(data: list[int], ec_count: int) -> list[int]:
    """The Reed-Solomon remainder of `data` (the error-correction codewords)."""
    rows = _generator_rows(ec_count)
    shift = 8 * (ec_count - 1)
    keep = (1 << shift) - 1
    rem = 0
    for byte in data:
        factor = byte ^ (rem >> shift)
        rem = ((rem & keep) << 8) ^ rows[factor]
    return list(rem.to_bytes(ec_count, "big"))


@cache
def _capacities(level: int) -> list[int]:
    """Data bits of versions 1..40 at `level` (index = version)."""
    return list(qrcode.util.BIT_LIMIT_TABLE[level])


def version_for(data: bytes, level: int = LEVELS["M"]) -> int:
    """The smallest version whose capacity holds `data` in byte mode."""
    need_small = 4 + 8 + 8 * len(data)
    need_large = 4 + 16 + 8 * len(data)
    caps = _capacities(level)
    for version in range(1, 41):
        need = need_small if version < 10 else need_large
        if caps[version] >= need:
            return version
    raise ValueError(f"{len(data)} bytes do not fit in a QR code at this error-correction level")


def encode(text: str, level: str = "M", mask: int = 0, version: int | None = None) -> list[list[bool]]:
    """The QR symbol of `text` (UTF-8, byte mode) as rows of modules, True = dark, no quiet zone."""
    return [[ch == "1" for ch in row] for row in encode_rows(text, level, mask, version)]


def encode_rows(text: str, level: str = "M", mask: int = 0, version: int | None = None) -> list[str]:
    """The QR symbol of `text` as one string per row, "1" = dark (the fast form for drawing)."""
    lvl = LEVELS[level]
    data = text.encode("utf-8")
    v = version or version_for(data, lvl)
    t = _template(v, lvl, mask)
    # Segment: mode 0100, character count, the bytes; then terminator, byte alignment and pad bytes.
    bits = (0b0100 << t.count_bits) | len(data)
    nbits = 4 + t.count_bits
    bits = (bits << (8 * len(data))) | int.from_bytes(data, "big")
    nbits += 8 * len(data)
    capacity = t.data_bytes * 8
    if nbits > capacity:
        raise ValueError(f"the text does not fit in a version {v} QR code")
    term = min(4, capacity - nbits)
    bits <<= term
    nbits += term
    align = (-nbits) % 8
    bits <<= align
    nbits += align
    codewords = list(bits.to_bytes(nbits // 8, "big"))
    codewords += [_PAD[i % 2] for i in range(t.data_bytes - len(codewords))]
    # Reed-Solomon per block, then interleave data and error-correction codewords.
    dc: list[list[int]] = []
    ec: list[list[int]] = []
    offset = 0
    for data_count, ec_count in t.blocks:
        block = codewords[offset:offset + data_count]
        offset += data_count
        dc.append(block)
        ec.append(_ecc(block, ec_count))
    final: list[int] = []
    for i in range(max(len(b) for b in dc)):
        final.extend(b[i] for b in dc if i < len(b))
    for i in range(max(len(b) for b in ec)):
        final.extend(b[i] for b in ec if i < len(b))
    # Place: the masked data bits in zigzag order, function modules from the template, by one lookup.
    count = len(t.coords)
    stream = int.from_bytes(bytes(final), "big") << (count - 8 * len(final))  # remainder bits are 0
    cells = "".join(t.pick(format(stream ^ t.flips, f"0{count}b") + "01"))
    n = t.size
    return [cells[i:i + n] for i in range(0, n * n, n)]
