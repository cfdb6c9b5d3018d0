"""Pages of the case area (stub until built)."""

urlpatterns: list = []
