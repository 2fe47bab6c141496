import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from core.demo import seed_all
from core.models import User


class Command(BaseCommand):
    help = "Create (or complete) the demo clinic. Safe to run again: nothing is made twice."

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("DEMO_PASSWORD") or settings.DEMO_PASSWORD_DEFAULT
        existed = User.objects.filter(username="director").exists()
        with transaction.atomic():
            ctx = seed_all(password)
        for line in ctx.log:
            self.stdout.write(line)
        if existed:
            self.stdout.write("Demo clinic already present; filled in anything missing.")
        if os.environ.get("DEMO_PASSWORD"):
            self.stdout.write("Demo users' password: the value of DEMO_PASSWORD.")
        else:
            self.stdout.write(f"Demo users' password (DEMO_PASSWORD unset): {password}")
        self.stdout.write(
            "Users: director, counselor, counselor2, nurse, frontdesk, collector, "
            "patient1 ... patient40"
        )
