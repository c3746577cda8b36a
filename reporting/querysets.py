from django.db import models


class ObligationQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Obligations of the agencies the user may see (see AgencyQuerySet.visible_to)."""
        from agencies.models import Agency

        if user.is_authenticated and user.sees_every_agency:
            return self
        return self.filter(agency__in=Agency.objects.visible_to(user))
