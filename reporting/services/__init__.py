"""Changing reporting state. Each module holds one subject; callers import from here."""

from .obligations import ObligationError, obligation_scope_set, obligations_generate, plan_for_year

__all__ = ["ObligationError", "obligation_scope_set", "obligations_generate", "plan_for_year"]
