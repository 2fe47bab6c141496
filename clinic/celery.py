import os
from pathlib import Path
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

app = Celery("stepwise")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The filesystem transport (the demo's broker) writes into folders it does not create.
_FILESYSTEM_FOLDERS = ("data_folder_in", "data_folder_out", "processed_folder", "control_folder")


@app.on_after_configure.connect
def _create_broker_folders(sender: Celery, source: Any, **kwargs: Any) -> None:
    # Configuration is loaded once per process, before the first message is sent or
    # consumed (web, worker and beat alike), so the folders exist when they are needed.
    if not str(source.broker_url).startswith("filesystem://"):
        return
    options = source.broker_transport_options or {}
    for key in _FILESYSTEM_FOLDERS:
        if key in options:
            Path(options[key]).mkdir(parents=True, exist_ok=True)
