"""The director's reports: each is a function of the filters returning a chart and a
table; the same table is the CSV export. Each runs a fixed number of queries.

An app contributes reports in its ``reports`` module with ``@report(slug, title,
description, order=...)``. ``ReportsConfig.ready()`` finds those modules with
``autodiscover_modules``, so the reports app, which shows and exports them, names no app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .charts import Chart
from .registry import Registry


@dataclass
class Filters:
    organization_id: int
    site_ids: list[int]  # the sites chosen (all the director's sites when none is)
    start: date
    end: date
    today: date


@dataclass
class Report:
    chart: Chart
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    note: str = ""


ReportBuilder = Callable[[Filters], Report]


@dataclass
class ReportSpec:
    slug: str
    title: str
    description: str
    build: ReportBuilder


# Keyed by slug; the order is the index page's order.
REPORTS: Registry[ReportSpec] = Registry(unique=True)


def report(
    slug: str, title: str, description: str, *, order: int
) -> Callable[[ReportBuilder], ReportBuilder]:
    """Register a report builder; the function is returned unchanged."""

    def register(func: ReportBuilder) -> ReportBuilder:
        REPORTS.add(slug, ReportSpec(slug, title, description, func), order=order)
        return func

    return register
