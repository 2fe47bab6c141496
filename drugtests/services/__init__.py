"""Being split into submodules (next commit); this re-export keeps callers working meanwhile."""

from .random_draw import *  # noqa: F403
