"""Reads of the portal check-in: the patient's open sittings, one sitting of their own
with its questions and answers."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.http import HttpRequest

from core.access import get_or_deny
from core.models import User
from patients.models import Patient

from ..models import Administration, Instrument, InstrumentItem

OPEN = (Administration.Status.DUE, Administration.Status.IN_PROGRESS)


def open_checkins(patient: Patient) -> QuerySet[Administration]:
    """The patient's due and in-progress sittings, oldest due first (one query)."""
    return (
        Administration.objects.filter(patient=patient, status__in=OPEN)
        .select_related("instrument")
        .order_by("due_on", "pk")
    )


def checkin_get_for_patient(
    user: User, patient: Patient, pk: int, *, request: HttpRequest | None = None
) -> Administration:
    """One of the patient's own sittings, or 404 with an audit row: a patient never reaches
    another's, whatever the id."""
    return get_or_deny(
        user,
        Administration.objects.filter(patient=patient).select_related("instrument"),
        action="measures.checkin_view",
        message="No such check-in.",
        patient_id=patient.pk,
        request=request,
        pk=pk,
    )


@dataclass
class Sitting:
    """A sitting's questions in order and the answers saved so far (two queries)."""

    administration: Administration
    items: list[InstrumentItem]
    answers: dict[int, int] = field(default_factory=dict)  # item pk -> value

    @property
    def language(self) -> str:
        return self.administration.language

    def item(self, number: int) -> InstrumentItem | None:
        return next((i for i in self.items if i.number == number), None)

    def position(self, item: InstrumentItem) -> int:
        return self.items.index(item) + 1

    def previous(self, item: InstrumentItem) -> InstrumentItem | None:
        at = self.items.index(item)
        return self.items[at - 1] if at > 0 else None

    def first_unanswered(self) -> InstrumentItem | None:
        """The first required question without an answer (an optional one, such as the
        PHQ-9's difficulty question or the BAM's 7a-7g, never holds the sitting back)."""
        return next((i for i in self.items if i.required and i.pk not in self.answers), None)

    def next_unanswered(self, after: InstrumentItem) -> InstrumentItem | None:
        """The next question without an answer after ``after`` (optional ones included,
        so the patient is asked them once), else the first required one left."""
        at = self.items.index(after)
        later = [i for i in self.items[at + 1 :] if i.pk not in self.answers]
        return later[0] if later else self.first_unanswered()

    def rows(self) -> list[tuple[InstrumentItem, str, dict[str, object] | None]]:
        """Each question's text in the sitting's language with the chosen option."""
        return [
            (
                i,
                i.text(self.language),
                i.option(self.answers[i.pk]) if i.pk in self.answers else None,
            )
            for i in self.items
        ]


def ordered_items(instrument: Instrument, items: list[InstrumentItem]) -> list[InstrumentItem]:
    """The items in the paper form's order: ``scoring["display_order"]`` (item numbers)
    when the instrument has one (the BAM's 7a-7g, numbered 71-77, come after item 6),
    else by number."""
    order = instrument.scoring.get("display_order")
    if not order:
        return sorted(items, key=lambda i: i.number)
    rank = {int(number): index for index, number in enumerate(order)}
    return sorted(items, key=lambda i: (rank.get(i.number, len(rank)), i.number))


def sitting_for(administration: Administration) -> Sitting:
    items = ordered_items(administration.instrument, list(administration.instrument.items.all()))
    answers = dict(administration.answers.values_list("item_id", "value"))
    return Sitting(administration=administration, items=items, answers=answers)
