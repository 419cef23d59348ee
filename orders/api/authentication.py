"""Token authentication that loads the user and the user's roles in one query.

DRF's TokenAuthentication reads the token and user, then the role check
(sleekbatch.roles.has_role) reads the user's groups: two round trips and two
ORM compilations on every request. Order submission is the busiest request of
the system (goal: 1,000/s on two cores), and compiling those two queries cost
more CPU than validating and storing the order, so this is one raw query, built
once from the models' metadata (a raw queryset still converts column values).
"""

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connections, router
from django.utils.translation import gettext_lazy as _
from drf_spectacular.authentication import TokenScheme
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed


@cache
def _user_by_token_sql(alias: str) -> str:
    quote_name = connections[alias].ops.quote_name
    user_meta = get_user_model()._meta
    membership = user_meta.get_field("groups").remote_field.through._meta
    token_column = Token._meta.get_field("key").column
    # One row per group of the user, or a single row with a NULL role_name.
    return (
        f"SELECT u.*, g.{quote_name(Group._meta.get_field('name').column)} AS role_name"
        f" FROM {quote_name(Token._meta.db_table)} t"
        f" INNER JOIN {quote_name(user_meta.db_table)} u"
        f" ON u.{quote_name(user_meta.pk.column)} = t.{quote_name(Token._meta.get_field('user').column)}"
        f" LEFT JOIN {quote_name(membership.db_table)} ug"
        f" ON ug.{quote_name(membership.get_field('user').column)} = u.{quote_name(user_meta.pk.column)}"
        f" LEFT JOIN {quote_name(Group._meta.db_table)} g"
        f" ON g.{quote_name(Group._meta.pk.column)} = ug.{quote_name(membership.get_field('group').column)}"
        f" WHERE t.{quote_name(token_column)} = %s"
    )


class TokenWithRolesAuthentication(TokenAuthentication):
    """``Authorization: Token …`` as in DRF, with ``has_role`` answered from the same query."""

    def authenticate_credentials(self, key):
        alias = router.db_for_read(Token)
        rows = list(get_user_model().objects.db_manager(alias).raw(_user_by_token_sql(alias), [key]))
        if not rows:
            raise AuthenticationFailed(_("Invalid token."))
        user = rows[0]
        if not user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        # Fills the per-user cache that sleekbatch.roles.has_role reads before querying.
        user._role_cache = {row.role_name for row in rows if row.role_name is not None}
        del user.role_name
        # "created" stays deferred: nothing on a request reads it.
        token = Token.from_db(alias, ["key", "user_id"], [key, user.pk])
        token.user = user
        return user, token


class TokenWithRolesScheme(TokenScheme):
    """OpenAPI: the same ``Authorization: Token …`` header, under its own component name
    (drf-spectacular refuses two classes under one name)."""

    target_class = TokenWithRolesAuthentication
    name = "tokenWithRolesAuth"
    match_subclasses = False
    priority = 0
