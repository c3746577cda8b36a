from django.db import transaction

from .models import User


@transaction.atomic
def demo_admin_ensure(*, username: str, password: str) -> User:
    """Create or reset the demo administrator (demo mode only, see setup_demo)."""
    user, _created = User.objects.get_or_create(username=username, defaults={"is_staff": True, "is_superuser": True})
    user.is_staff = user.is_superuser = user.is_active = True
    user.set_password(password)
    user.save()
    return user
