from django.db import migrations

from sleekbatch.roles import OPS, grant_role_permissions


class Migration(migrations.Migration):
    dependencies = [
        ("suppliers", "0002_supplier_membership"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    # Ops manage suppliers and their offers (deactivate rather than delete: batches point at them)
    # and read supplier orders, which only the workflow places.
    operations = [
        grant_role_permissions(
            OPS,
            "suppliers",
            [
                "view_supplier",
                "add_supplier",
                "change_supplier",
                "view_supplieroffer",
                "add_supplieroffer",
                "change_supplieroffer",
                "view_supplierorder",
            ],
        )
    ]
