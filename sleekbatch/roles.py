"""The three roles: buyers submit orders, ops run the platform, suppliers see their own data.

A role is a Django group of the same name, so the admin can manage it.
"""

from django.contrib.auth.models import Group
from rest_framework.permissions import BasePermission

BUYER = "buyer"
OPS = "ops"
SUPPLIER = "supplier"
ROLES = (BUYER, OPS, SUPPLIER)


def has_role(user, role: str) -> bool:
    if not user or not user.is_authenticated:
        return False
    if role == OPS and user.is_superuser:
        return True
    cache = getattr(user, "_role_cache", None)
    if cache is None:
        cache = set(user.groups.values_list("name", flat=True))
        user._role_cache = cache
    return role in cache


def assign_role(user, role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    group, _ = Group.objects.get_or_create(name=role)
    user.groups.add(group)
    if role == OPS and not user.is_staff:
        user.is_staff = True  # ops work the review queue in the admin
        user.save(update_fields=["is_staff"])
    user.__dict__.pop("_role_cache", None)


class IsBuyer(BasePermission):
    message = "Only buyers can do this."

    def has_permission(self, request, view):
        return has_role(request.user, BUYER)


class IsOps(BasePermission):
    message = "Only operations staff can do this."

    def has_permission(self, request, view):
        return has_role(request.user, OPS)


class IsBuyerOrOps(BasePermission):
    message = "Only buyers and operations staff can do this."

    def has_permission(self, request, view):
        return has_role(request.user, BUYER) or has_role(request.user, OPS)


def grant_role_permissions(role: str, app_label: str, codenames: list[str]):
    """A migration operation giving ``role``'s group these permissions of one app (and taking them back).

    Each app grants the permissions of its own models in its own migrations, so the ops role
    is defined where the models are, and a fresh database has it without any manual step.
    """
    from django.db import migrations

    def _permissions(apps):
        from django.apps import apps as installed_apps
        from django.contrib.auth.management import create_permissions

        # Permissions are normally created after all migrations ran (post_migrate); create this
        # app's now, from the models as they are at this migration, so they can be granted here.
        create_permissions(installed_apps.get_app_config(app_label), apps=apps, verbosity=0)
        permission_model = apps.get_model("auth", "Permission")
        found = list(permission_model.objects.filter(content_type__app_label=app_label, codename__in=codenames))
        missing = set(codenames) - {permission.codename for permission in found}
        if missing:
            raise LookupError(f"no such permissions in {app_label}: {', '.join(sorted(missing))}")
        return found

    def grant(apps, schema_editor):
        group, _ = apps.get_model("auth", "Group").objects.get_or_create(name=role)
        group.permissions.add(*_permissions(apps))

    def revoke(apps, schema_editor):
        group = apps.get_model("auth", "Group").objects.filter(name=role).first()
        if group is not None:
            group.permissions.remove(*_permissions(apps))

    operation = migrations.RunPython(grant, revoke)
    operation.role_grant = (role, app_label, tuple(codenames))  # read by role_grants_in_migrations
    return operation


def role_grants_in_migrations(role: str) -> list[tuple[str, str]]:
    """``(app_label, codename)`` of every permission the migrations on disk grant ``role``.

    Tests that flush the database (transactional tests) lose the group's permissions with it;
    this lets them restore exactly what ``migrate`` gives a fresh database.
    """
    from django.db.migrations.loader import MigrationLoader

    grants = []
    for migration in MigrationLoader(None, ignore_no_migrations=True).disk_migrations.values():
        for operation in migration.operations:
            granted_role, app_label, codenames = getattr(operation, "role_grant", (None, None, ()))
            if granted_role == role:
                grants.extend((app_label, codename) for codename in codenames)
    return grants


class IsSupplierOrOps(BasePermission):
    message = "Only suppliers' users and operations staff can do this."

    def has_permission(self, request, view):
        return has_role(request.user, SUPPLIER) or has_role(request.user, OPS)
