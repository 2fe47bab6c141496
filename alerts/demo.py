"""The demo's alert queue: a sweep once the history is in, so the homes have rows."""

from __future__ import annotations

from core.demo import DEMO_STEPS, DemoContext

from .services import alerts_sweep


@DEMO_STEPS.register("history", order=900)
def sweep(ctx: DemoContext) -> None:
    done = alerts_sweep(now=ctx.now)
    ctx.log.append(f"alerts: {done.raised} raised, {done.resolved} resolved")
