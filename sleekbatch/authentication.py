"""Token authentication that loads the user and the user's roles in one query, then remembers them
for ``AUTH_CACHE_TTL_SECONDS`` per process (the measured reason and the revocation trade-off:
docs/order-intake.md).
"""

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import router
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.translation import gettext_lazy as _
from drf_spectacular.authentication import TokenScheme
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from sleekbatch import sql
from sleekbatch.ttl_cache import TTLCache

# How long a process trusts what it read about a token. Short, because it is also
# how late a revocation made elsewhere takes effect here (docs/order-intake.md);
# at a few requests per second per token, 10 s already spares nearly every query.
AUTH_CACHE_TTL_SECONDS = 10.0
# Entries are dropped all at once beyond this many tokens, so memory stays bounded.
AUTH_CACHE_MAX_ENTRIES = 10_000


@cache
def _user_by_token_sql(alias: str) -> str:
    user_model = get_user_model()
    membership = user_model._meta.get_field("groups").remote_field.through

    def col(model, name):
        return sql.column(model, name, using=alias)

    user_id = col(user_model, user_model._meta.pk.name)
    user_columns = ", ".join(f"u.{col(user_model, name)}" for name in _user_fields())
    # One row per group of the user, or a single row with a NULL role name (the last column).
    return (
        f"SELECT {user_columns}, g.{col(Group, 'name')}"
        f" FROM {sql.table(Token, using=alias)} t"
        f" INNER JOIN {sql.table(user_model, using=alias)} u ON u.{user_id} = t.{col(Token, 'user')}"
        f" LEFT JOIN {sql.table(membership, using=alias)} ug ON ug.{col(membership, 'user')} = u.{user_id}"
        f" LEFT JOIN {sql.table(Group, using=alias)} g ON g.{col(Group, 'id')} = ug.{col(membership, 'group')}"
        f" WHERE t.{col(Token, 'key')} = %s"
    )


# token key → (database alias, the user's column values, role names)
_token_cache = TTLCache(ttl_seconds=AUTH_CACHE_TTL_SECONDS, max_entries=AUTH_CACHE_MAX_ENTRIES)


def token_cache_clear(**signal_kwargs) -> None:
    """Forget every remembered token in this process (the receiver connected in ``SleekbatchConfig.ready()``)."""
    _token_cache.clear()


def token_cache_connect_invalidation() -> None:
    """Clear the cache on every ORM change to tokens, users, groups and memberships.

    Clearing everything is simplest and cheap: these changes are rare, a refill is one query per token.
    """
    user_model = get_user_model()
    for sender in (Token, user_model, Group):
        post_save.connect(token_cache_clear, sender=sender, dispatch_uid=f"token_cache_clear_save_{sender.__name__}")
        post_delete.connect(token_cache_clear, sender=sender, dispatch_uid=f"token_cache_clear_del_{sender.__name__}")
    m2m_changed.connect(
        token_cache_clear, sender=user_model.groups.through, dispatch_uid="token_cache_clear_user_groups"
    )


@cache
def _user_fields() -> list[str]:
    return [field.attname for field in get_user_model()._meta.concrete_fields]


class TokenWithRolesAuthentication(TokenAuthentication):
    """``Authorization: Token …`` as in DRF, with ``has_role`` answered from the same query."""

    def authenticate_credentials(self, key):
        cached = _token_cache.get(key)
        if cached is None:
            alias = router.db_for_read(Token)
            # A cursor, not a raw queryset: a third of a token's first request went to building
            # model instances only to read their values back.
            statement = sql.Sql(_user_by_token_sql(alias), (key,))
            rows = sql.fetch_as_orm(statement, get_user_model(), _user_fields(), using=alias)
            if not rows:
                raise AuthenticationFailed(_("Invalid token."))
            values = tuple(rows[0][:-1])
            roles = frozenset(row[-1] for row in rows if row[-1] is not None)
            _token_cache.put(key, (alias, values, roles))
        else:
            alias, values, roles = cached
        # A fresh instance per request: a view may change its user without touching the cache.
        user = get_user_model().from_db(alias, _user_fields(), values)
        if not user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        # Fills the per-user cache that sleekbatch.roles.has_role reads before querying.
        user._role_cache = set(roles)
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
