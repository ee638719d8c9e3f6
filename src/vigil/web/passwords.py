"""Dashboard passwords: scrypt hashes made by ``vigil web passwd``, checked at login.

Rules of this file:
- scrypt from the standard library (OpenSSL), parameters from OWASP's table
  for scrypt: N=2^14, r=8, p=5 (16 MiB for the time of one check), so a login
  cannot grow the daemon by more than that; the parameters travel in the hash,
  so raising them later keeps old hashes valid.
- A check costs the same whether the user exists or not (``check`` against a
  fixed dummy hash), so the time of a refusal does not say which names exist.
- Digests are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from vigil.config import PasswordHash

__all__ = ["DEFAULT_LN", "check", "hash_password"]

DEFAULT_LN, DEFAULT_R, DEFAULT_P = 14, 8, 5
_DIGEST_BYTES = 32


def _derive(password: str, ln: int, r: int, p: int, salt: bytes, *,
            dklen: int = _DIGEST_BYTES) -> bytes:
    n = 1 << ln
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                          maxmem=130 * n * r + 1024 * 1024, dklen=dklen)


def hash_password(password: str, *, ln: int = DEFAULT_LN) -> PasswordHash:
    """A new salted hash of PASSWORD."""
    salt = secrets.token_bytes(16)
    return PasswordHash(ln, DEFAULT_R, DEFAULT_P, salt,
                        _derive(password, ln, DEFAULT_R, DEFAULT_P, salt))


_DUMMY = PasswordHash(DEFAULT_LN, DEFAULT_R, DEFAULT_P, b"\0" * 16, b"\0" * _DIGEST_BYTES)


def check(password: str, stored: PasswordHash | None) -> bool:
    """Whether PASSWORD matches STORED; None (no such user) costs the same and fails."""
    target = stored if stored is not None else _DUMMY
    digest = _derive(password, target.ln, target.r, target.p, target.salt,
                     dklen=len(target.digest))
    return hmac.compare_digest(digest, target.digest) and stored is not None
