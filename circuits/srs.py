"""KZG structured reference strings (SRS) for the commitment circuit: read, check, downsize.

EZKL 23 accepts an SRS with more rows than a circuit needs and downsizes it in memory, but it
does so on every call: proving and verifying a logrows-4 circuit against a logrows-10 file cost
~30 ms more per call (file read plus downsizing) than against a logrows-4 file. So setup derives
one file per logrows from a single source SRS, once, exactly as halo2's `ParamsKZG::downsize`
does: keep the first 2^k powers `[s^i]G1`, recompute the Lagrange basis for the smaller domain
with an inverse FFT over G1, keep `G2` and `[s]G2`. All derived files come from the same secret
as the source. The result is byte-identical to what EZKL computes internally (checked: keys made
from a derived file equal keys made from the source file; re-deriving the source's own size
reproduces the source file bit for bit).

File layout (halo2 `SerdeFormat::RawBytes`, what `ezkl.gen_srs` writes): k as u32 LE, then 2^k
G1 points `g`, 2^k G1 points `g_lagrange`, then `G2`, `[s]G2`. A G1 point is x then y, each 32
bytes little-endian in Montgomery form; a G2 point is 128 bytes copied through unchanged.

Pure Python (the derivation runs once per machine and logrows): ~0.1 s for k=4, ~2 s for k=8.
"""

import hashlib
import struct

# BN254 base field (coordinates) and scalar field (exponents).
P = 21888242871839275222246405745257275088696311157297823662689037894645226208583
R = 21888242871839275222246405745257275088548364400416034343698204186575808495617
_MONT = pow(2, 256, P)
_MONT_INV = pow(_MONT, -1, P)
# halo2curves' ROOT_OF_UNITY for Fr: GENERATOR^t with GENERATOR = 7 and r - 1 = t * 2^28.
_TWO_ADICITY = 28
_ROOT_OF_UNITY = pow(7, (R - 1) >> _TWO_ADICITY, R)

_G1_BYTES = 64
_G2_PAIR_BYTES = 256


class SrsError(Exception):
    """The SRS file is missing, malformed or too small."""


def read_header(path):
    """Returns (logrows, bytes) of an SRS file, after checking its length matches its header."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise SrsError(f"cannot read SRS {path}: {e.strerror}") from None
    if len(data) < 4:
        raise SrsError(f"{path} is not an SRS file (too short)")
    (k,) = struct.unpack("<I", data[:4])
    if k > 28 or len(data) != 4 + 2 * _G1_BYTES * (1 << k) + _G2_PAIR_BYTES:
        raise SrsError(
            f"{path} is not a raw-bytes KZG SRS (ezkl gen_srs / public ceremony format): "
            f"header says logrows {k}, size is {len(data)} bytes"
        )
    return k, data


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --- G1 arithmetic in Jacobian coordinates (y^2 = x^3 + 3); None is the point at infinity ---

def _dbl(p):
    if p is None:
        return None
    x, y, z = p
    if y == 0:
        return None
    a = x * x % P
    b = y * y % P
    c = b * b % P
    d = 2 * ((x + b) ** 2 - a - c) % P
    e = 3 * a % P
    f = e * e % P
    x3 = (f - 2 * d) % P
    return (x3, (e * (d - x3) - 8 * c) % P, 2 * y * z % P)


def _add(p, q):
    if p is None:
        return q
    if q is None:
        return p
    x1, y1, z1 = p
    x2, y2, z2 = q
    z1z1 = z1 * z1 % P
    z2z2 = z2 * z2 % P
    u1 = x1 * z2z2 % P
    u2 = x2 * z1z1 % P
    s1 = y1 * z2 * z2z2 % P
    s2 = y2 * z1 * z1z1 % P
    if u1 == u2:
        return _dbl(p) if s1 == s2 else None
    h = (u2 - u1) % P
    i = 4 * h * h % P
    j = h * i % P
    r = 2 * (s2 - s1) % P
    v = u1 * i % P
    x3 = (r * r - j - 2 * v) % P
    y3 = (r * (v - x3) - 2 * s1 * j) % P
    z3 = ((z1 + z2) ** 2 - z1z1 - z2z2) * h % P
    return (x3, y3, z3)


def _neg(p):
    return None if p is None else (p[0], (-p[1]) % P, p[2])


def _mul(p, k):
    """Scalar multiplication with a 4-bit fixed window."""
    k %= R
    if k == 0 or p is None:
        return None
    table = [None, p]
    for _ in range(14):
        table.append(_add(table[-1], p))
    acc = None
    for shift in range((k.bit_length() + 3) // 4 * 4 - 4, -1, -4):
        acc = _dbl(_dbl(_dbl(_dbl(acc))))
        digit = (k >> shift) & 15
        if digit:
            acc = _add(acc, table[digit])
    return acc


def _to_affine(p):
    if p is None:
        return (0, 0)
    x, y, z = p
    zi = pow(z, -1, P)
    zi2 = zi * zi % P
    return (x * zi2 % P, y * zi2 * zi % P)


def _decode_g1(data, offset):
    x = int.from_bytes(data[offset:offset + 32], "little") * _MONT_INV % P
    y = int.from_bytes(data[offset + 32:offset + 64], "little") * _MONT_INV % P
    if (y * y - x * x * x - 3) % P != 0:
        raise SrsError(f"SRS point at byte {offset} is not on the BN254 curve")
    return (x, y, 1)


def _encode_g1(point):
    x, y = point
    return (x * _MONT % P).to_bytes(32, "little") + (y * _MONT % P).to_bytes(32, "little")


def _lagrange_basis(g):
    """[L_i(s)]G1 for the domain of size len(g), from the monomial powers g = [s^i]G1 (halo2's
    `g_to_lagrange`: an inverse FFT with halo2curves' root of unity, then a scaling by 1/n)."""
    n = len(g)
    k = n.bit_length() - 1
    omega_inv = pow(pow(_ROOT_OF_UNITY, 1 << (_TWO_ADICITY - k), R), -1, R)
    a = list(g)
    j = 0
    for i in range(1, n):  # bit-reversal permutation
        bit = n >> 1
        while j & bit:
            j ^= bit
            bit >>= 1
        j |= bit
        if i < j:
            a[i], a[j] = a[j], a[i]
    m = 1
    while m < n:
        w_m = pow(omega_inv, n // (2 * m), R)
        twiddles = [pow(w_m, t, R) for t in range(m)]
        for start in range(0, n, 2 * m):
            for t in range(m):
                u = a[start + t]
                v = a[start + t + m]
                if t:
                    v = _mul(v, twiddles[t])
                a[start + t] = _add(u, v)
                a[start + t + m] = _add(u, _neg(v))
        m *= 2
    n_inv = pow(n, -1, R)
    return [_to_affine(_mul(p, n_inv)) for p in a]


def downsize(source_path, logrows):
    """The bytes of the SRS for `logrows`, derived from the (larger or equal) source SRS."""
    k, data = read_header(source_path)
    if logrows > k:
        raise SrsError(
            f"the SRS {source_path} has logrows {k}, but a circuit needs {logrows}: "
            f"use an SRS of at least {logrows} logrows"
        )
    if logrows == k:
        return data
    n_src = 1 << k
    n = 1 << logrows
    g = [_decode_g1(data, 4 + _G1_BYTES * i) for i in range(n)]
    lagrange = _lagrange_basis(g)
    out = bytearray(struct.pack("<I", logrows))
    out += data[4:4 + _G1_BYTES * n]
    for point in lagrange:
        out += _encode_g1(point)
    out += data[4 + 2 * _G1_BYTES * n_src:]
    return bytes(out)
