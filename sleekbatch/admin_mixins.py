"""Admin building blocks shared by the apps."""

from django.db import transaction

from sleekbatch.audit import Action, audit_diff, audit_record


class WorkflowOwnedAdmin:
    """A model whose rows only the workflow writes: anyone with the view permission may look, nobody
    (superusers included) adds, edits or deletes one by hand — that would go around the state machine.
    """

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AuditedAdmin:
    """Every addition, change and deletion made on this admin page (its inlines included) writes an
    audit entry with the changed fields before and after, in the admin's own transaction.

    The row is re-read before the save (the form has already written its values onto ``obj``), and
    the entry is written after ``save_related`` so that it follows the save to its end.
    """

    def save_model(self, request, obj, form, change):
        old = type(obj)._default_manager.filter(pk=obj.pk).first() if change and obj.pk is not None else None
        super().save_model(request, obj, form, change)
        request._audit_pending = getattr(request, "_audit_pending", []) + [(old, obj)]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        for old, obj in getattr(request, "_audit_pending", []):
            _audit_admin_save(request, old, obj)
        request._audit_pending = []

    def save_formset(self, request, form, formset, change):
        model = formset.model
        changed_pks = [f.instance.pk for f in formset.initial_forms if f.instance.pk is not None and f.has_changed()]
        olds = {old.pk: old for old in model._default_manager.filter(pk__in=changed_pks)}
        # Recorded before the save: a deleted instance loses its primary key.
        deleted_pks = [f.instance.pk for f in formset.deleted_forms if f.instance.pk is not None]
        for deleted in model._default_manager.filter(pk__in=deleted_pks):
            _audit_admin_delete(request, deleted)
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            _audit_admin_save(request, None, obj)
        for obj, _fields in formset.changed_objects:
            _audit_admin_save(request, olds.get(obj.pk), obj)

    def delete_model(self, request, obj):
        with transaction.atomic():
            _audit_admin_delete(request, obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        # The "delete selected" action runs outside the admin's transaction: one for all of them.
        with transaction.atomic():
            for obj in queryset:
                _audit_admin_delete(request, obj)
            super().delete_queryset(request, queryset)


def _audit_admin_save(request, old, obj) -> None:
    before, after = audit_diff(old, obj)
    if old is not None and not after:
        return  # saved without a change: nothing was decided
    action = Action.ADMIN_CHANGE if old is not None else Action.ADMIN_ADD
    audit_record(actor=request.user, action=action, obj=obj, before=before, after=after)


def _audit_admin_delete(request, obj) -> None:
    before, _ = audit_diff(obj, None)
    audit_record(actor=request.user, action=Action.ADMIN_DELETE, obj=obj, before=before)
