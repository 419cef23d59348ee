#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sleekbatch.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line
    from django.db import OperationalError

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        sys.exit(f"sleekbatch: configuration error: {exc}")
    except OperationalError as exc:
        # One clear line instead of a traceback when the database is down.
        from sleekbatch.services_check import database_error_message

        sys.exit(f"sleekbatch: {database_error_message(exc)}")


if __name__ == "__main__":
    main()
