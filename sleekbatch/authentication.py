"""Token authentication that loads the user and the user's roles in one query, then remembers them briefly.

DRF's TokenAuthentication reads the token and user, then the role check
(sleekbatch.roles.has_role) reads the user's groups: two round trips and two
ORM compilations on every request. Order submission is the busiest request of
the system (goal: 1,000/s on two cores), and compiling those two queries cost
more CPU than validating and storing the order, so this is one raw query, built
once from the models' metadata (a raw queryset still converts column values).

Even that query was a fifth of a submission's CPU, so each process also keeps
what it read for AUTH_CACHE_TTL_SECONDS. The trade-off: a change made by another
process (a revoked token, a deactivated user, a role taken away) takes effect
here only when the entry expires, i.e. up to AUTH_CACHE_TTL_SECONDS late. A
change made through the ORM in this process (``token.delete()``,
``user.save()``, ``user.groups.remove(…)``, a group renamed or deleted) empties
this process's cache at once (receivers connected in SleekbatchConfig.ready()).
``QuerySet.update()`` and raw SQL send no signal: they too wait for the TTL.
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
# how late a revocation made elsewhere takes effect here (see the module docstring);
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
    # One row per group of the user, or a single row with a NULL role_name.
    return (
        f"SELECT u.*, g.{col(Group, 'name')} AS role_name"
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
            rows = list(get_user_model().objects.db_manager(alias).raw(_user_by_token_sql(alias), [key]))
            if not rows:
                raise AuthenticationFailed(_("Invalid token."))
            values = tuple(getattr(rows[0], name) for name in _user_fields())
            roles = frozenset(row.role_name for row in rows if row.role_name is not None)
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
