"""Recompute every stored draw from its inputs and walk each site's chain."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from core.models import AuditEvent, Site

from .draws import GENESIS, DrawProblem, verify_draw
from .models import Draw, DrawPoolEntry, Selection


def verify_draws(site: Site | None = None, batch: int = 200) -> Iterator[DrawProblem | int]:
    """Yield a problem for every altered draw, then the number of draws checked."""
    sites = [site] if site is not None else list(Site.objects.order_by("pk"))
    checked = 0
    for s in sites:
        expected_seq, prev = 1, GENESIS
        ids = list(Draw.objects.filter(site=s).order_by("seq", "pk").values_list("pk", flat=True))
        anchors = {
            int(object_id): (detail or {}).get("hash")
            for object_id, detail in AuditEvent.objects.filter(
                action="drugtests.draw", object_type="drugtests.Draw", site_id=s.pk
            ).values_list("object_id", "detail")
        }
        for start in range(0, len(ids), batch):
            chunk = ids[start : start + batch]
            draws = list(Draw.objects.filter(pk__in=chunk).order_by("seq", "pk"))
            pool = defaultdict(list)
            for entry in DrawPoolEntry.objects.filter(draw_id__in=chunk).order_by("patient_id"):
                pool[entry.draw_id].append(entry)
            chosen = defaultdict(list)
            for draw_id, patient_id in Selection.objects.filter(
                draw_id__in=chunk, kind=Selection.Kind.RANDOM
            ).values_list("draw_id", "patient_id"):
                chosen[draw_id].append(patient_id)
            for draw in draws:
                label = f"{s.code} {draw.date.isoformat()} #{draw.seq}"
                problems = verify_draw(
                    draw,
                    expected_seq=expected_seq,
                    expected_prev=prev,
                    entries=pool[draw.pk],
                    selection_ids=chosen[draw.pk],
                )
                if anchors.get(draw.pk) != draw.hash:
                    problems.append("hash differs from the one anchored in the audit trail")
                for problem in problems:
                    yield DrawProblem(draw.pk, label, problem)
                checked += 1
                expected_seq, prev = draw.seq + 1, draw.hash
        # Removing the newest draw leaves the chain intact; the audit trail still has it.
        for missing in sorted(set(anchors) - set(ids)):
            yield DrawProblem(missing, s.code, "recorded in the audit trail but missing")
    yield checked
