"""`Operation.next_poll_at` becomes `due_at`: when the sweeper next hands the operation over.

It also served as a lease; that is `claimed_until` alone now. The index the sweeper reads by is
dropped and made again on the renamed column (same name).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("sites", "0005_activity_backup_at_detail")]

    operations = [
        migrations.RemoveIndex(model_name="operation", name="operation_due"),
        migrations.RenameField(model_name="operation", old_name="next_poll_at", new_name="due_at"),
        migrations.AddIndex(
            model_name="operation",
            index=models.Index(fields=["state", "due_at"], name="operation_due"),
        ),
    ]
