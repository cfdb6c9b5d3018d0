"""Pages of the directory area (stub until built)."""

urlpatterns: list = []
