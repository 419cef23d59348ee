from django.contrib import admin

from analytics.models import JobRun
from sleekbatch.admin_mixins import WorkflowOwnedAdmin


@admin.register(JobRun)
class JobRunAdmin(WorkflowOwnedAdmin, admin.ModelAdmin):
    list_display = ["task_name", "status", "queue", "duration_ms", "retries", "finished_at"]
    list_filter = ["status", "task_name", "queue"]
    search_fields = ["task_id", "task_name", "correlation_id"]
    date_hierarchy = "finished_at"


from analytics.reports import admin as reports_admin  # noqa: E402, F401 - registers the report admin pages
