from django.core.management.base import BaseCommand, CommandError

from sleekbatch.services_check import ServiceUnavailable, check_broker, check_database


class Command(BaseCommand):
    help = "Check that the database and the broker are reachable; one line per failure."

    def handle(self, *args, **options):
        try:
            check_database()
            check_broker()
        except ServiceUnavailable as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write("database and broker reachable")
