"""The year's target sheet: download, then upload (preview, then all or nothing)."""

urlpatterns: list = []
