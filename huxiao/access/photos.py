"""Photos at the gate (visitors, interceptions, pick-up adults): JPEG or PNG up to 2 MB,
encrypted into the row like the register's photos (ADR 0017), never a file on disk."""

from __future__ import annotations

import base64

from huxiao.core import crypto
from huxiao.intel.validation import photo_content_type


def seal(data: bytes) -> tuple[str, str]:
    """(encrypted text, content type) of a photo, or a ValidationError for the "photo"
    field's message (size or type)."""
    content_type = photo_content_type(data)
    return crypto.encrypt(base64.b64encode(data).decode("ascii")), content_type


def set_photo(record, data: bytes | None) -> None:
    """Put `data` (or nothing) into an `EncryptedPhoto` record; the caller saves it."""
    if not data:
        record.photo_encrypted = record.photo_content_type = ""
        return
    record.photo_encrypted, record.photo_content_type = seal(data)


def open_photo(record) -> tuple[bytes, str] | None:
    """The photo's bytes and type; None when there is none or it cannot be decrypted.
    Callers serve it with `Cache-Control: no-store` to users allowed to see the record."""
    if not record.photo_encrypted:
        return None
    try:
        data = base64.b64decode(crypto.decrypt(record.photo_encrypted))
    except (crypto.DecryptionError, ValueError):
        return None
    return data, record.photo_content_type
