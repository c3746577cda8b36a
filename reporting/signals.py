from django.dispatch import receiver

from measures.signals import values_published


@receiver(values_published)
def years_published_by_a_plan_file(sender, years, **kwargs):
    """A year whose values came in a plan file works like one published in the portal."""
    from .services.obligations import obligations_generate
    from .services.periods import periods_ensure

    for year in years:
        periods_ensure(year=year)
        obligations_generate(year=year)
