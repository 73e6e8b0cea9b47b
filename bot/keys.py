"""Keys derived from the environment's one secret (CADENCE_SECRET_KEY): each use gets a key of its own
under fixed labels, the same on every instance."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def derived_key(secret: str, *, salt: bytes, info: bytes) -> bytes:
    """32 bytes of HKDF-SHA256 of the secret under these labels, URL-safe base64 (a Fernet key's form)."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(secret.encode())
    return base64.urlsafe_b64encode(derived)
