"""The patient's check-in in the portal: one question per screen, resumable, a review,
then the done page, which leads with crisis resources when an answer needs them.

Every page takes the sitting from the patient's own (``checkin_get_for_patient``), so an
id of another patient's sitting is a 404. The pages speak the sitting's language (the
patient may switch it while answering); the patient is never shown a score.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from core.access import PortalRequest, patient_required

from ..forms.checkin import AnswerForm, CompleteForm, LanguageForm
from ..models import Administration, Language, SafetyEvent
from ..selectors.checkin import checkin_get_for_patient, open_checkins, sitting_for
from ..services.administrations import (
    administration_complete,
    administration_start,
    answer_save,
)

# The words around the questions, in the sitting's language (the questions and answers
# come from the instrument's rows).
TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "question_of": "Question {n} of {total}",
        "next": "Next",
        "skip": "Skip this question",
        "back": "Back",
        "review": "Check your answers",
        "review_intro": "Look over your answers. Tap one to change it.",
        "change": "Change",
        "submit": "Submit",
        "done_title": "Thank you",
        "done_body": "Your answers are saved. Your counselor will go over them with you.",
        "crisis": (
            "If you are thinking about harming yourself, help is available now: call or "
            "text 988 (Suicide & Crisis Lifeline), or call 911 in an emergency."
        ),
        "call": "Call 988",
        "text": "Text 988",
        "emergency": "Call 911",
        "contact": "Your counselor will contact you today.",
        "home": "Back to home",
        "complete": "This check-in is already complete; it can no longer change.",
        "no_question": "That question is not part of this check-in. Here is the next one.",
        "unanswered": "Answer every question first.",
        "language": "Language",
    },
    "es": {
        "question_of": "Pregunta {n} de {total}",
        "next": "Siguiente",
        "skip": "Omitir esta pregunta",
        "back": "Atrás",
        "review": "Revise sus respuestas",
        "review_intro": "Revise sus respuestas. Toque una para cambiarla.",
        "change": "Cambiar",
        "submit": "Enviar",
        "done_title": "Gracias",
        "done_body": "Sus respuestas están guardadas. Su consejero las revisará con usted.",
        "crisis": (
            "Si está pensando en hacerse daño, hay ayuda ahora mismo: llame o envíe un "
            "mensaje de texto al 988 (Línea de Prevención del Suicidio y Crisis), o llame "
            "al 911 en una emergencia."
        ),
        "call": "Llamar al 988",
        "text": "Enviar texto al 988",
        "emergency": "Llamar al 911",
        "contact": "Su consejero se comunicará con usted hoy.",
        "home": "Volver al inicio",
        "complete": "Este cuestionario ya está completo; no se puede cambiar.",
        "no_question": "Esa pregunta no es parte de este cuestionario. Aquí está la siguiente.",
        "unanswered": "Primero conteste todas las preguntas.",
        "language": "Idioma",
    },
}


def _texts(language: str) -> dict[str, str]:
    return TEXTS.get(language, TEXTS["en"])


def _first_open_step(administration: Administration) -> HttpResponse:
    """Where a sitting continues: the first unanswered question, else the review."""
    item = sitting_for(administration).first_unanswered()
    if item is None:
        return redirect("measures:checkin_review", administration.pk)
    return redirect("measures:checkin_item", administration.pk, item.number)


def _refuse_completed(request: PortalRequest, administration: Administration) -> HttpResponse:
    messages.info(request, _texts(administration.language)["complete"])
    return redirect("measures:checkin_done", administration.pk)


@patient_required
def checkins(request: PortalRequest) -> HttpResponse:
    rows = list(open_checkins(request.patient))
    return render(request, "measures/checkins.html", {"checkins": rows})


@patient_required
@require_http_methods(["GET", "POST"])
def checkin_item(request: PortalRequest, pk: int, number: int) -> HttpResponse:
    administration = checkin_get_for_patient(request.user, request.patient, pk, request=request)
    if administration.status == Administration.Status.COMPLETED:
        return _refuse_completed(request, administration)
    if not administration.is_open:
        messages.info(request, gettext("This check-in has closed."))
        return redirect("measures:checkins")
    sitting = sitting_for(administration)
    texts = _texts(sitting.language)
    item = sitting.item(number)
    if request.method == "GET" and "resume" in request.GET:
        # From the list or the portal home: continue at the first unanswered question,
        # shown here (its form posts to its own address), or the review when none is left.
        item = sitting.first_unanswered()
        if item is None:
            return redirect("measures:checkin_review", administration.pk)
    if item is None:
        messages.warning(request, texts["no_question"])
        return _first_open_step(administration)
    form = AnswerForm(
        request.POST if request.method == "POST" else None,
        item=item,
        language=sitting.language,
        initial={"value": sitting.answers.get(item.pk)},
    )
    skipped = request.method == "POST" and not item.required and "skip" in request.POST
    if skipped or (
        request.method == "POST" and form.is_valid() and form.cleaned_data["value"] in ("", None)
    ):
        following = sitting.next_unanswered(item)
        if following is None:
            return redirect("measures:checkin_review", administration.pk)
        return redirect("measures:checkin_item", administration.pk, following.number)
    if request.method == "POST" and form.is_valid():
        try:
            if administration.status == Administration.Status.DUE:
                administration = administration_start(
                    actor=request.user,
                    administration=administration,
                    mode=Administration.Mode.PORTAL,
                    language=administration.language,
                )
            answer_save(
                actor=request.user,
                administration=administration,
                item=item,
                value=form.cleaned_data["value"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            sitting.answers[item.pk] = form.cleaned_data["value"]
            following = sitting.next_unanswered(item)
            if following is None:
                return redirect("measures:checkin_review", administration.pk)
            return redirect("measures:checkin_item", administration.pk, following.number)
    previous = sitting.previous(item)
    return render(
        request,
        "measures/checkin_item.html",
        {
            "administration": administration,
            "instrument": administration.instrument,
            "intro": administration.instrument.intro(sitting.language),
            "item": item,
            "form": form,
            "t": texts,
            "position": texts["question_of"].format(
                n=sitting.position(item), total=len(sitting.items)
            ),
            "previous": previous,
            "language_form": LanguageForm(initial={"language": sitting.language}),
            "languages": Language.choices,
            "language": sitting.language,
        },
        status=422 if form.errors else 200,
    )


@patient_required
@require_POST
def checkin_language(request: PortalRequest, pk: int) -> HttpResponse:
    """Switch the sitting between English and Spanish (the answers stay)."""
    administration = checkin_get_for_patient(request.user, request.patient, pk, request=request)
    if administration.status == Administration.Status.COMPLETED:
        return _refuse_completed(request, administration)
    form = LanguageForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose English or Español.")
        return _first_open_step(administration)
    try:
        administration_start(
            actor=request.user,
            administration=administration,
            mode=Administration.Mode.PORTAL,
            language=form.cleaned_data["language"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("measures:checkins")
    # Back to the question the toggle was pressed on; a hand-made value (letters, a
    # 5,000-digit number that int() refuses) only loses that convenience.
    back = request.POST.get("number", "")
    if (
        back.isdecimal()
        and len(back) <= 4
        and sitting_for(administration).item(int(back)) is not None
    ):
        return redirect("measures:checkin_item", administration.pk, int(back))
    return _first_open_step(administration)


@patient_required
@require_http_methods(["GET", "POST"])
def checkin_review(request: PortalRequest, pk: int) -> HttpResponse:
    administration = checkin_get_for_patient(request.user, request.patient, pk, request=request)
    if administration.status == Administration.Status.COMPLETED:
        return _refuse_completed(request, administration)
    if not administration.is_open:
        messages.info(request, gettext("This check-in has closed."))
        return redirect("measures:checkins")
    sitting = sitting_for(administration)
    texts = _texts(sitting.language)
    form = CompleteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if sitting.first_unanswered() is not None:
            messages.warning(request, texts["unanswered"])
            return _first_open_step(administration)
        try:
            administration_complete(actor=request.user, administration=administration)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("measures:checkin_done", administration.pk)
    return render(
        request,
        "measures/checkin_review.html",
        {
            "administration": administration,
            "instrument": administration.instrument,
            "rows": sitting.rows(),
            "form": form,
            "t": texts,
            "language": sitting.language,
        },
        status=422 if form.errors else 200,
    )


@patient_required
def checkin_done(request: PortalRequest, pk: int) -> HttpResponse:
    administration = checkin_get_for_patient(request.user, request.patient, pk, request=request)
    if administration.status != Administration.Status.COMPLETED:
        return (
            _first_open_step(administration)
            if administration.is_open
            else redirect("measures:checkins")
        )
    safety = SafetyEvent.objects.filter(administration=administration).exists()
    return render(
        request,
        "measures/checkin_done.html",
        {
            "administration": administration,
            "safety": safety,
            "t": _texts(administration.language),
            "language": administration.language,
        },
    )
