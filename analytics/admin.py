from django.contrib import admin, messages

from analytics.models import JobRun
from analytics.services import JobRetryRefused, job_run_retry
from sleekbatch.admin_mixins import WorkflowOwnedAdmin
from sleekbatch.roles import OPS, has_role


@admin.register(JobRun)
class JobRunAdmin(WorkflowOwnedAdmin, admin.ModelAdmin):
    list_display = ["task_name", "status", "queue", "duration_ms", "retries", "finished_at", "retried_at"]
    list_filter = ["status", "task_name", "queue"]
    search_fields = ["task_id", "task_name", "correlation_id"]
    date_hierarchy = "finished_at"
    actions = ["retry"]

    def has_retry_permission(self, request):
        return has_role(request.user, OPS)

    @admin.action(description="Send failed jobs again (with their arguments, once each)", permissions=["retry"])
    def retry(self, request, queryset):
        sent, refused = [], []
        for run_id in queryset.order_by("finished_at").values_list("id", flat=True):
            try:
                run = job_run_retry(job_run_id=run_id, actor=request.user)
            except JobRetryRefused as exc:
                refused.append(str(exc))
            else:
                sent.append(f"{run.task_name} as {run.retry_task_id}")
        if sent:
            self.message_user(request, f"Sent again: {', '.join(sent)}.", messages.SUCCESS)
        for message in refused:
            self.message_user(request, message, messages.ERROR)


from analytics.reports import admin as reports_admin  # noqa: E402, F401 - registers the report admin pages
