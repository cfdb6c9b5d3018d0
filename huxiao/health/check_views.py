"""Pages of the check area (stub until built)."""

urlpatterns: list = []
