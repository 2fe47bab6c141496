from django.urls import path

from . import views

app_name = "letters"

urlpatterns = [
    path("patients/<int:pk>/", views.patient_letters, name="patient"),
    path(
        "patients/<int:pk>/consents/<int:consent_pk>/letter/",
        views.letter_new,
        name="new",
    ),
    path("patients/<int:pk>/disclosures/", views.patient_disclosures, name="patient_disclosures"),
    path("patients/<int:pk>/record.pdf", views.record_pdf_staff, name="record_pdf"),
    path("<int:pk>/", views.letter_detail, name="letter"),
    path("<int:pk>/letter.pdf", views.letter_pdf, name="pdf"),
    path("batch/", views.batch_new, name="batch_new"),
    path("batch/<int:pk>/", views.batch_detail, name="batch"),
    path("sites/<int:site_pk>/letterhead/", views.letterhead, name="letterhead"),
    path("my/record/", views.my_record, name="my_record"),
    path("my/record.pdf", views.my_record_pdf, name="my_record_pdf"),
    path("my/disclosures/", views.my_disclosures, name="my_disclosures"),
]
