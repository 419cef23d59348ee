"""The audit trail: ``audit_record`` writes one ``AuditEntry`` per staff decision, in its transaction.

``audit_snapshot`` and ``audit_changes`` turn model instances into the JSON of the fields that
changed; a field that declares ``audit_masked = True`` (the encrypted fields) is masked.
"""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction

from sleekbatch.correlation import get_correlation_id
from sleekbatch.models import AuditEntry
from sleekbatch.redaction import REDACTED

Action = AuditEntry.Action
MASK = REDACTED


class AuditOutsideTransaction(RuntimeError):
    """An audit entry written outside the change's transaction could outlive a rolled-back change."""


def _masked(field: models.Field) -> bool:
    return getattr(field, "audit_masked", False)


def audit_snapshot(instance: models.Model) -> dict:
    """The instance's concrete fields as JSON values (foreign keys as ids), sensitive ones masked."""
    values = {}
    for field in instance._meta.concrete_fields:
        value = field.value_from_object(instance)
        if _masked(field):
            value = MASK if value not in (None, "") else value
        values[field.attname] = json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    return values


def audit_changes(before: dict, after: dict) -> tuple[dict, dict]:
    """``before`` and ``after`` cut down to the fields whose value differs.

    A masked field is compared before masking by its caller (``audit_changed_fields``); here two
    masks compare equal, so the caller adds masked fields it knows changed.
    """
    keys = sorted(set(before) | set(after))
    changed = [key for key in keys if before.get(key) != after.get(key)]
    changed_before = {key: before[key] for key in changed if key in before}
    return changed_before, {key: after[key] for key in changed if key in after}


def audit_diff(old: models.Model | None, new: models.Model | None) -> tuple[dict, dict]:
    """The changed fields of ``old`` → ``new`` (either may be None: an addition or a deletion)."""
    before = audit_snapshot(old) if old is not None else {}
    after = audit_snapshot(new) if new is not None else {}
    if old is not None and new is not None:
        # Two masks look alike: a masked field that changed is named with both sides masked.
        changed_masked = [
            field.attname
            for field in new._meta.concrete_fields
            if _masked(field) and field.value_from_object(old) != field.value_from_object(new)
        ]
        before_changed, after_changed = audit_changes(before, after)
        for name in changed_masked:
            before_changed[name], after_changed[name] = before[name], after[name]
        return before_changed, after_changed
    return before, after


def audit_record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEntry:
    """Record a staff decision. Call it inside the transaction that makes the change, so that a
    change rolled back leaves no entry and a committed change never lacks one."""
    if not transaction.get_connection().in_atomic_block:
        raise AuditOutsideTransaction("audit_record must run inside the transaction of the change it records")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEntry.objects.create(
        actor_id=actor.pk if authenticated else None,
        actor_username=actor.get_username() if authenticated else "",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        object_repr=str(obj)[:200] if obj is not None else "",
        before=before or {},
        after=after or {},
        correlation_id=get_correlation_id(),
    )
