"""The director's reports. Each is a function of the filters returning a chart and a
table; the same table is the CSV export. Each runs a fixed number of queries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from core.registry import Registry

from .charts import Chart


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


@dataclass
class ReportSpec:
    slug: str
    title: str
    description: str
    build: Callable[[Filters], Report]


# Keyed by slug, in the order the report modules register (the index page's order).
REPORTS: Registry[ReportSpec] = Registry(unique=True)

ReportBuilder = Callable[[Filters], Report]


def report(slug: str, title: str, description: str) -> Callable[[ReportBuilder], ReportBuilder]:
    def register(func: ReportBuilder) -> ReportBuilder:
        REPORTS.add(slug, ReportSpec(slug, title, description, func))
        return func

    return register
