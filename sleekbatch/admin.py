"""The audit trail in the admin: read-only, for ops (view permission, granted by migration) and superusers."""

from django.contrib import admin

from sleekbatch.admin_mixins import WorkflowOwnedAdmin
from sleekbatch.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(WorkflowOwnedAdmin, admin.ModelAdmin):
    list_display = ["created_at", "actor_username", "action", "object_type", "object_id", "object_repr"]
    list_filter = ["action", "actor_username", "object_type", "created_at"]
    search_fields = ["=object_id", "=correlation_id"]
    search_help_text = "An object id (exactly as stored: a UUID with dashes, or a number) or a correlation id."
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = [
        "created_at",
        "actor_id",
        "actor_username",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "before",
        "after",
        "correlation_id",
    ]
    readonly_fields = fields
