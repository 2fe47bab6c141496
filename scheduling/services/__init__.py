"""Being split into submodules (next commit); this re-export keeps callers working meanwhile."""

from .site_holidays import *  # noqa: F403
