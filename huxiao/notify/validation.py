"""Field rules of notification channels, shared by the services and any form or API."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils.translation import gettext_lazy as _

from huxiao.notify.choices import (
    CONFIGURABLE_KINDS,
    SECRET_KINDS,
    SECRET_REQUIRED_KINDS,
    URL_KINDS,
    ChannelKind,
)

PHONE_RE = re.compile(r"^\+?\d{5,20}$")
MAX_EMAILS = 20
MAX_PHONES = 50
_url = URLValidator(schemes=["http", "https"])


def normalize_phone(value) -> str | None:
    """Digits (and a leading +) of a phone number, or None if it is not one."""
    phone = re.sub(r"[\s\-()]", "", str(value or ""))
    return phone if PHONE_RE.match(phone) else None


def clean_phones(values: Iterable) -> list[str]:
    """Valid, distinct numbers in the given order; invalid ones raise."""
    if isinstance(values, str):
        values = re.split(r"[,;，；\s]+", values)
    phones: list[str] = []
    bad: list[str] = []
    for value in values:
        if value in ("", None):
            continue
        phone = normalize_phone(value)
        if phone is None:
            bad.append(str(value))
        elif phone not in phones:
            phones.append(phone)
    if bad:
        raise ValidationError(_("Not a mobile number: %(values)s") % {"values": ", ".join(bad[:5])})
    if len(phones) > MAX_PHONES:
        raise ValidationError(_("At most %(count)s numbers.") % {"count": MAX_PHONES})
    return phones


def split_emails(value: str) -> list[str]:
    return [part for part in re.split(r"[,;，；\s]+", value or "") if part]


def clean_target(kind: str, target: str) -> str:
    target = (target or "").strip()
    if not target:
        raise ValidationError(_("This field is required."))
    if kind == ChannelKind.EMAIL:
        addresses = split_emails(target)
        if len(addresses) > MAX_EMAILS:
            raise ValidationError(_("At most %(count)s addresses.") % {"count": MAX_EMAILS})
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError as exc:
                raise ValidationError(
                    _("Not an email address: %(value)s") % {"value": address[:100]}
                ) from exc
        return ", ".join(dict.fromkeys(addresses))
    if len(target) > 2000:
        raise ValidationError(_("The address is too long."))
    try:
        _url(target)
    except ValidationError as exc:
        raise ValidationError(_("Enter an http:// or https:// address.")) from exc
    return target


def display_target(kind: str, target: str) -> str:
    """What pages and the audit trail show: robot URLs carry their access token in the query
    (or path), so only the scheme, host and the last four characters are kept."""
    if kind not in URL_KINDS:
        return target[:255]
    parts = urlsplit(target)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}/…{target[-4:]}"[:255]


def clean_channel(*, kind: str, name: str, target: str, secret: str, phones) -> dict:
    """All fields of a channel, normalised; one ValidationError naming every bad field."""
    errors: dict[str, list] = {}
    cleaned: dict = {}
    if kind not in CONFIGURABLE_KINDS:
        errors["kind"] = [_("Choose one of the channels offered.")]
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("This field is required.")]
    elif len(name) > 100:
        errors["name"] = [_("At most 100 characters.")]
    cleaned["name"] = name
    if "kind" not in errors:
        try:
            cleaned["target"] = clean_target(kind, target)
        except ValidationError as exc:
            errors["target"] = exc.messages
        secret = (secret or "").strip()
        if kind not in SECRET_KINDS:
            secret = ""
        elif not secret and kind in SECRET_REQUIRED_KINDS:
            errors["secret"] = [_("This channel needs a secret.")]
        elif len(secret) > 500:
            errors["secret"] = [_("At most 500 characters.")]
        cleaned["secret"] = secret
    try:
        cleaned["phones"] = clean_phones(phones or [])
    except ValidationError as exc:
        errors["phones"] = exc.messages
    if errors:
        raise ValidationError(errors)
    return cleaned
