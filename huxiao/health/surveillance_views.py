"""Pages of the surveillance area (stub until built)."""

urlpatterns: list = []
