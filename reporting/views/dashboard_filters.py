"""Reading the dashboards' query string: every bad value becomes a visible message and
is ignored, never a server error, and an agency outside the user's scope is never used."""

from urllib.parse import urlencode

from django.contrib import messages
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency
from measures.models import Strategy
from measures.years import parse_roc_year

from ..assessment import Status
from ..selectors import obligation_years
from ..selectors.target_setting import year_without_values_message
from ..selectors.dashboard import DashboardQuery
from ..services import ObligationError, plan_for_year
from .obligations import positive_id

TRUE_VALUES = {"1", "true", "on", "yes"}


def current_roc_year_and_quarter():
    today = timezone.localdate()
    return today.year - 1911, (today.month + 2) // 3


class DashboardFilters:
    """Parses year, quarter, strategy, lead, branch, key, submitted and status.

    ``query`` is None when there is no year with obligations at all.
    """

    def __init__(self, request, params=None):
        self.request = request
        self.params = request.GET if params is None else params
        self.problems: list[str] = []
        self.years = obligation_years()
        self.query: DashboardQuery | None = None
        self.plan = None
        year = self._year()
        if year is None:
            return
        try:
            self.plan = plan_for_year(year)
        except ObligationError as error:
            self.problems.append(str(error))
            return
        self.query = DashboardQuery(
            plan=self.plan, year=year, quarter=self._quarter(year),
            strategy=self._strategy(), lead_agency=self._agency("lead", Agency.objects.all(), _("主辦機關")),
            branch=self._agency("branch", Agency.objects.visible_to(request.user), _("機關分支")),
            key_only=self._flag("key"), include_submitted=self._flag("submitted"), status=self._status(),
        )

    def warn(self):
        for problem in self.problems:
            messages.warning(self.request, problem)

    # ------------------------------------------------------------------ fields

    def _raw(self, name) -> str:
        return self.params.get(name, "").strip()

    def _year(self):
        if not self.years:
            return None
        current, _quarter = current_roc_year_and_quarter()
        default = next((year for year in self.years if year <= current), self.years[0])
        raw = self._raw("year")
        if not raw:
            return default
        try:
            asked = parse_roc_year(raw)
        except ValueError as error:
            self.problems.append(_("年度：%(error)s 已改為顯示民國%(year)d年。") % {"error": error, "year": default})
            return default
        if asked not in self.years:
            reason = year_without_values_message(year=asked) or _("民國%(asked)d年沒有填報資料。") % {"asked": asked}
            self.problems.append(_("%(reason)s 已改為顯示民國%(year)d年。") % {"reason": reason, "year": default})
            return default
        return asked

    def _quarter(self, year):
        current_year, current_quarter = current_roc_year_and_quarter()
        default = current_quarter if year == current_year else 4
        raw = self._raw("quarter")
        if not raw:
            return default
        if raw in {"1", "2", "3", "4"}:
            return int(raw)
        self.problems.append(_("季別「%(value)s」無效（應為 1 至 4），已改為第%(quarter)d季。") % {"value": raw, "quarter": default})
        return default

    def _strategy(self):
        raw = self._raw("strategy")
        if not raw:
            return None
        pk = positive_id(raw)
        strategy = Strategy.objects.filter(pk=pk, plan=self.plan).first() if pk else None
        if strategy is None:
            self.problems.append(_("具體策略「%(value)s」不屬於%(plan)s，已忽略此篩選。") % {"value": raw, "plan": self.plan})
        return strategy

    def _agency(self, name, candidates, label):
        raw = self._raw(name)
        if not raw:
            return None
        pk = positive_id(raw)
        agency = candidates.filter(pk=pk).first() if pk else None
        if agency is None:
            # The same words whether the agency does not exist or is outside the user's scope.
            self.problems.append(_("%(label)s「%(value)s」不存在或不在您的檢視範圍內，已忽略此篩選。") % {"label": label, "value": raw})
        return agency

    def _flag(self, name) -> bool:
        return self._raw(name).lower() in TRUE_VALUES

    def _status(self) -> str:
        raw = self._raw("status")
        if raw and raw not in Status.values:
            self.problems.append(_("狀態「%(value)s」無效，已忽略此篩選。") % {"value": raw})
            return ""
        return raw

    # ------------------------------------------------------------------ links

    def carried(self, **overrides) -> str:
        """The query string that keeps year, quarter, scope and counting rule on another page."""
        query = self.query
        params = {
            "year": query.year, "quarter": query.quarter,
            "branch": query.branch.pk if query.branch else "", "submitted": "1" if query.include_submitted else "",
        }
        params.update(overrides)
        return urlencode({key: value for key, value in params.items() if value not in ("", None)})
