from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0006_notifications"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["created_at", "id"], name="order_created_idx"),
        ),
    ]
