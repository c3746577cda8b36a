"""Signals other apps listen to, so that measures needs no knowledge of them."""

from django.dispatch import Signal

# A plan file published target values for these years (``years``: list of ROC years):
# reporting makes their periods and obligations, as publishing in the portal does.
values_published = Signal()
