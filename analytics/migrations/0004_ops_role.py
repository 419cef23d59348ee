from django.db import migrations

from sleekbatch.roles import OPS, grant_role_permissions


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0003_daily_stats"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    # Ops read job runs (failed jobs among them); only workers write them.
    operations = [grant_role_permissions(OPS, "analytics", ["view_jobrun"])]
