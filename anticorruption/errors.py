"""The portal's own 404 page: it names what was wrong when a view said so in the user's language."""

from django.shortcuts import render


def page_not_found(request, exception):
    text = str(exception or "")
    # Our views raise Http404 with a zh-Hant explanation (e.g. an unsupported export
    # format); Django's own English texts name internals, so they are not shown.
    message = text if text and not text.isascii() else ""
    return render(request, "404.html", {"exception": text, "message": message, "request_path": request.path}, status=404)
