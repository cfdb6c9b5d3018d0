"""How people are named on pages and in messages.

Django's `get_full_name()` is "first last", which turns 赵志刚 into "志刚 赵". A Chinese
name is written family name first, without a space; other names keep Django's order.
"""

from __future__ import annotations


def _is_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)


def person_name(user) -> str:
    """The user's name as people write it; the username when no name is set."""
    if user is None:
        return ""
    first = (getattr(user, "first_name", "") or "").strip()
    last = (getattr(user, "last_name", "") or "").strip()
    name = last + first if _is_cjk(first + last) else f"{first} {last}".strip()
    return name or user.get_username()


def acting_user(actor):
    """The user behind an action, for a "by" foreign key: None for the platform's own jobs,
    a device (gate terminal, alarm box) and an anonymous caller."""
    if (
        actor is None
        or getattr(actor, "is_device", False)
        or not getattr(actor, "is_authenticated", False)
        or not getattr(actor, "pk", None)
    ):
        return None
    return actor


def actor_label(actor) -> str:
    """Who did it, as a timeline row keeps it (at most 150 characters): a person's name, a
    device's name, or "system" for the platform's own jobs."""
    if actor is None:
        label = "system"
    elif getattr(actor, "is_device", False):
        label = str(actor)
    else:
        label = person_name(actor)
    return label[:150]
