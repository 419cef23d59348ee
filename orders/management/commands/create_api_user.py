from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token

from sleekbatch.roles import ROLES, SUPPLIER, assign_role
from suppliers.models import Supplier
from suppliers.services import supplier_membership_set


class Command(BaseCommand):
    help = "Create (or update) an API user with a role and print its token on stdout."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, help=f"one of: {', '.join(ROLES)}")
        parser.add_argument("--email", default=None, help="set the user's email address")
        parser.add_argument("--supplier", default=None, help="the supplier's code (required with --role supplier)")

    def handle(self, *args, username, role, email, supplier, **options):
        if role not in ROLES:
            raise CommandError(f"unknown role {role!r}; choose one of: {', '.join(ROLES)}")
        if (role == SUPPLIER) != (supplier is not None):
            raise CommandError("--supplier CODE goes with --role supplier, and only with it")
        supplier_obj = None
        if supplier is not None:
            supplier_obj = Supplier.objects.filter(code=supplier).first()
            if supplier_obj is None:
                raise CommandError(f"no supplier with code {supplier!r}")
        with transaction.atomic():
            user, created = get_user_model().objects.get_or_create(username=username)
            if created:
                user.set_unusable_password()  # an API user signs in with the token only
            if email is not None:
                user.email = email
            if created or email is not None:
                user.save()
            assign_role(user, role)
            if supplier_obj is not None:
                supplier_membership_set(user=user, supplier=supplier_obj)
            token, _ = Token.objects.get_or_create(user=user)
        acting_for = f" for {supplier_obj.code}" if supplier_obj is not None else ""
        self.stderr.write(f"{'created' if created else 'updated'} {username} ({role}{acting_for})")
        self.stdout.write(token.key)
