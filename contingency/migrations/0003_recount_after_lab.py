"""A lab result can count a test a second time, once: a cup positive the lab overturns
to negative earns at the step current then (and a target analyte the cup did not test,
found positive by the lab, resets). The second count names the first (``related``);
the first count stays unique per episode and test. A reason for a test whose target
analyte was not tested at all."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contingency", "0002_ledger_append_only"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="ledgerentry",
            name="cm_test_counted_once",
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="reason",
            field=models.CharField(
                choices=[
                    ("negative", "Target analytes negative"),
                    ("attended", "Attended"),
                    ("capped", "Qualifying, but the cap is reached"),
                    ("positive", "Target analyte positive"),
                    ("missed", "Missed"),
                    ("refused", "Refused"),
                    ("invalid", "Invalid specimen"),
                    ("not_tested", "A target analyte was not tested"),
                    ("absent", "Absent"),
                    ("overturned", "Lab confirmation overturned the cup result"),
                    ("handed_out", "Handed out"),
                    ("redeemed", "Voucher redeemed / card activation confirmed"),
                ],
                max_length=12,
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.UniqueConstraint(
                condition=models.Q(
                    ("kind__in", ["earned", "not_earned"]), ("related__isnull", True)
                ),
                fields=("enrollment", "selection"),
                name="cm_test_counted_once",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.UniqueConstraint(
                condition=models.Q(("kind__in", ["earned", "not_earned"])),
                fields=("related",),
                name="cm_recounted_once",
            ),
        ),
    ]
