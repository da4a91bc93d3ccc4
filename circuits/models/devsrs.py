"""A deterministic development SRS of any logrows, from a secret everyone knows: UNSAFE.

The committed development SRS (circuits/srs/kzg-dev-UNSAFE-k10.srs) is too small for the model
circuits (logrows 12 and more), a larger SRS cannot be derived from a smaller one, `ezkl.gen_srs`
draws a random secret (every machine would get other keys), and committing a multi-megabyte
file for each logrows is wasteful. So the model circuits use an SRS computed here from the
fixed secret tau = sha256(TAU_LABEL) mod r. Every machine derives the same bytes, so the keys
and verifiers are reproducible (circuits/keys.lock.json), and because the secret is public
ANYONE CAN FORGE A PROOF against keys made from it: development and tests only. A real
deployment passes the public ceremony's SRS (`vouch proof setup --srs`, docs/circuit.md).

Knowing tau avoids the inverse FFT that downsizing needs: the Lagrange basis is
[L_i(tau)]G1 with L_i(tau) = omega^i (tau^n - 1) / (n (tau - omega^i)), computed as scalars.
Each point is one fixed-base multiplication of the generator (8-bit windows, precomputed
affine table, mixed additions), so logrows 12 takes a couple of seconds in pure Python.

The layout is halo2's raw bytes, as in circuits/srs.py: k (u32 LE), 2^k G1 powers, 2^k G1
Lagrange points, G2, [tau]G2; coordinates little-endian in Montgomery form.

    .venv/bin/python circuits/models/devsrs.py LOGROWS OUT_FILE
"""

import hashlib
import os
import struct
import sys

P = 21888242871839275222246405745257275088696311157297823662689037894645226208583
R = 21888242871839275222246405745257275088548364400416034343698204186575808495617
MONT = pow(2, 256, P)
TWO_ADICITY = 28
ROOT_OF_UNITY = pow(7, (R - 1) >> TWO_ADICITY, R)  # halo2curves' Fr::ROOT_OF_UNITY
TAU_LABEL = b"vouch development SRS, UNSAFE: this secret is public"
TAU = int.from_bytes(hashlib.sha256(TAU_LABEL).digest(), "big") % R

G1 = (1, 2)
# The BN254 G2 generator (halo2curves), x = x0 + x1 u, y = y0 + y1 u over Fp[u]/(u^2 + 1).
G2 = (
    (10857046999023057135944570762232829481370756359578518086990519993285655852781,
     11559732032986387107991004021392285783925812861821192530917403151452391805634),
    (8495653923123431417604973247489272438418190587263600148770280649306958101930,
     4082367875863433681332203403145435568316851327593401208105741076214120093531),
)


# --- G1: Jacobian coordinates, y^2 = x^3 + 3 --------------------------------------------------

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
    x3 = (e * e - 2 * d) % P
    return (x3, (e * (d - x3) - 8 * c) % P, 2 * y * z % P)


def _madd(p, q):
    """p (Jacobian or None) + q (affine)."""
    if p is None:
        return (q[0], q[1], 1)
    x1, y1, z1 = p
    z1z1 = z1 * z1 % P
    u2 = q[0] * z1z1 % P
    s2 = q[1] * z1 * z1z1 % P
    if u2 == x1:
        return _dbl(p) if s2 == y1 else None
    h = (u2 - x1) % P
    hh = h * h % P
    i = 4 * hh % P
    j = h * i % P
    r = 2 * (s2 - y1) % P
    v = x1 * i % P
    x3 = (r * r - j - 2 * v) % P
    y3 = (r * (v - x3) - 2 * y1 * j) % P
    z3 = ((z1 + h) ** 2 - z1z1 - hh) % P
    return (x3, y3, z3)


def _batch_affine(points):
    """Jacobian points (none at infinity) to affine, with one field inversion in all."""
    prefix = []
    acc = 1
    for _, _, z in points:
        prefix.append(acc)
        acc = acc * z % P
    inv = pow(acc, -1, P)
    out = [None] * len(points)
    for i in range(len(points) - 1, -1, -1):
        x, y, z = points[i]
        zi = inv * prefix[i] % P
        inv = inv * z % P
        zi2 = zi * zi % P
        out[i] = (x * zi2 % P, y * zi2 * zi % P)
    return out


class FixedBase:
    """[c]G for many scalars c: 32 windows of 8 bits, each with the 255 affine multiples."""

    def __init__(self, g):
        rows = []
        base = (g[0], g[1], 1)
        for _ in range(32):
            row = [base]
            for _ in range(254):
                row.append(_madd(row[-1], _batch_affine([base])[0]))
            rows.append(row)
            for _ in range(8):
                base = _dbl(base)
        flat = _batch_affine([p for row in rows for p in row])
        self.table = [flat[w * 255:(w + 1) * 255] for w in range(32)]

    def mul(self, c):
        c %= R
        acc = None
        w = 0
        while c:
            d = c & 255
            if d:
                acc = _madd(acc, self.table[w][d - 1])
            c >>= 8
            w += 1
        if acc is None:
            raise ValueError("[0]G is the point at infinity, which an SRS never holds")
        return acc


# --- G2: affine over Fp2, only for the single point [tau]G2 -----------------------------------

def _f2_mul(a, b):
    return ((a[0] * b[0] - a[1] * b[1]) % P, (a[0] * b[1] + a[1] * b[0]) % P)


def _f2_inv(a):
    n = pow((a[0] * a[0] + a[1] * a[1]) % P, -1, P)
    return (a[0] * n % P, (-a[1]) * n % P)


def _f2_sub(a, b):
    return ((a[0] - b[0]) % P, (a[1] - b[1]) % P)


def _g2_add(p, q):
    if p is None:
        return q
    if q is None:
        return p
    if p[0] == q[0]:
        if p[1] != q[1]:
            return None
        num = _f2_mul((3, 0), _f2_mul(p[0], p[0]))
        lam = _f2_mul(num, _f2_inv(_f2_mul((2, 0), p[1])))
    else:
        lam = _f2_mul(_f2_sub(q[1], p[1]), _f2_inv(_f2_sub(q[0], p[0])))
    x3 = _f2_sub(_f2_sub(_f2_mul(lam, lam), p[0]), q[0])
    y3 = _f2_sub(_f2_mul(lam, _f2_sub(p[0], x3)), p[1])
    return (x3, y3)


def _g2_mul(p, k):
    acc = None
    for bit in bin(k)[2:]:
        acc = _g2_add(acc, acc)
        if bit == "1":
            acc = _g2_add(acc, p)
    return acc


def _g2_on_curve(p):
    # y^2 = x^3 + 3 / (9 + u)
    b = _f2_mul((3, 0), _f2_inv((9, 1)))
    x, y = p
    return _f2_sub(_f2_mul(y, y), _f2_mul(_f2_mul(x, x), x)) == b


# --- encoding ---------------------------------------------------------------------------------

def _fp(v):
    return (v * MONT % P).to_bytes(32, "little")


def _g1_bytes(p):
    return _fp(p[0]) + _fp(p[1])


def _g2_bytes(p):
    (x0, x1), (y0, y1) = p
    return _fp(x0) + _fp(x1) + _fp(y0) + _fp(y1)


def generate(logrows, tau=TAU):
    """The SRS bytes for `logrows` with secret `tau`."""
    if not 1 <= logrows <= TWO_ADICITY:
        raise ValueError(f"logrows must be in 1..{TWO_ADICITY}, got {logrows}")
    if not _g2_on_curve(G2):
        raise AssertionError("the G2 generator constant is not on the twist")
    n = 1 << logrows
    omega = pow(ROOT_OF_UNITY, 1 << (TWO_ADICITY - logrows), R)
    powers = [1] * n
    for i in range(1, n):
        powers[i] = powers[i - 1] * tau % R
    # L_i(tau) = omega^i (tau^n - 1) / (n (tau - omega^i)); one inversion for all denominators.
    t_n = (powers[-1] * tau - 1) % R
    roots = [1] * n
    for i in range(1, n):
        roots[i] = roots[i - 1] * omega % R
    dens = [n * (tau - w) % R for w in roots]
    prefix = []
    acc = 1
    for d in dens:
        if d == 0:
            raise ValueError("tau is a root of unity of the domain")
        prefix.append(acc)
        acc = acc * d % R
    inv = pow(acc, -1, R)
    lagrange = [0] * n
    for i in range(n - 1, -1, -1):
        lagrange[i] = roots[i] * t_n % R * (inv * prefix[i] % R) % R
        inv = inv * dens[i] % R
    base = FixedBase(G1)
    g = _batch_affine([base.mul(c) for c in powers])
    g_lagrange = _batch_affine([base.mul(c) for c in lagrange])
    s_g2 = _g2_mul(G2, tau)
    out = bytearray(struct.pack("<I", logrows))
    for p in g:
        out += _g1_bytes(p)
    for p in g_lagrange:
        out += _g1_bytes(p)
    out += _g2_bytes(G2) + _g2_bytes(s_g2)
    return bytes(out)


def write(logrows, path):
    """Writes the SRS for `logrows` to `path` unless the file already holds exactly it."""
    data = generate(logrows)
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return False
    except FileNotFoundError:
        pass
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return True


if __name__ == "__main__":
    write(int(sys.argv[1]), sys.argv[2])
