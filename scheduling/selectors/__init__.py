"""Being split into submodules (next commit); this re-export keeps callers working meanwhile."""

from .hours import *  # noqa: F403
