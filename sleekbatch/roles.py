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
