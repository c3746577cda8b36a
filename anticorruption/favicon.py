from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.views.decorators.http import require_safe


@login_not_required
@require_safe
def favicon(request):
    """Browsers and crawlers ask for /favicon.ico whatever a page's <link rel="icon"> says."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))
