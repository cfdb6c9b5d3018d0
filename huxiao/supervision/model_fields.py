"""Field helpers used by the supervision models (shared with the other apps)."""

from huxiao.core.model_fields import user_fk

__all__ = ["user_fk"]
