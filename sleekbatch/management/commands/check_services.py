from django.core.management.base import BaseCommand, CommandError

from sleekbatch.services_check import SERVICE_CHECKS, ServiceUnavailable


class Command(BaseCommand):
    help = "Check that the database, the broker and the cache are reachable; one line per failure."

    def add_arguments(self, parser):
        parser.add_argument(
            "--only", choices=sorted(SERVICE_CHECKS), action="append", help="check only these (repeatable)"
        )

    def handle(self, *args, **options):
        names = options["only"] or list(SERVICE_CHECKS)
        failures = []
        for name in names:
            try:
                SERVICE_CHECKS[name]()
            except ServiceUnavailable as exc:
                failures.append(str(exc))
        if failures:
            raise CommandError("\n".join(failures))
        self.stdout.write(f"{', '.join(names)} reachable")
