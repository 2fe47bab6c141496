#!/usr/bin/env python
import os
import sys

# Commands that only read the code (no requests, no signed data) run without secrets, so
# a checkout can be checked (e.g. `makemigrations --check`) with no environment at all.
OFFLINE_COMMANDS = {
    "makemigrations",
    "showmigrations",
    "sqlmigrate",
    "help",
    "compilemessages",
    "makemessages",
}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    # The command line is read here, where it belongs, and told to settings through the
    # environment like every other input.
    if len(sys.argv) > 1 and sys.argv[1] in OFFLINE_COMMANDS:
        os.environ.setdefault("STEPWISE_OFFLINE", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
