"""Scoping by user: every view, download, export and API call reads agencies
through ``visible_to(user)``, so no page can forget who is asking."""

from tree_queries.query import TreeQuerySet


class AgencyQuerySet(TreeQuerySet):
    def visible_to(self, user):
        """Every agency for national roles; the user's own agency otherwise, plus
        the bodies under it for an agency reviewer with oversight; nothing for a
        user without a role."""
        if not user.is_authenticated or not user.has_any_role:
            return self.none()
        if user.sees_every_agency:
            return self
        if user.agency_id is None:
            return self.none()
        if user.oversees_subordinates:
            return self.filter(pk__in=self.model.objects.descendants(user.agency_id, include_self=True).values("pk"))
        return self.filter(pk=user.agency_id)

    def reporting(self):
        """Bodies that report: active, single bodies with an integrity unit."""
        return self.filter(is_active=True, has_integrity_unit=True, collective="")
