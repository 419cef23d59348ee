from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token

from sleekbatch.roles import ROLES, assign_role


class Command(BaseCommand):
    help = "Create (or update) an API user with a role and print its token on stdout."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, help=f"one of: {', '.join(ROLES)}")
        parser.add_argument("--email", default=None, help="set the user's email address")

    def handle(self, *args, username, role, email, **options):
        if role not in ROLES:
            raise CommandError(f"unknown role {role!r}; choose one of: {', '.join(ROLES)}")
        with transaction.atomic():
            user, created = get_user_model().objects.get_or_create(username=username)
            if created:
                user.set_unusable_password()  # an API user signs in with the token only
            if email is not None:
                user.email = email
            if created or email is not None:
                user.save()
            assign_role(user, role)
            token, _ = Token.objects.get_or_create(user=user)
        self.stderr.write(f"{'created' if created else 'updated'} {username} ({role})")
        self.stdout.write(token.key)
