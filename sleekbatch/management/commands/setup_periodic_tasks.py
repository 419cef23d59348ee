from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from sleekbatch.schedules import PERIODIC_JOBS


class Command(BaseCommand):
    help = "Write the periodic jobs defined in sleekbatch/schedules.py into django-celery-beat (by name)."

    @transaction.atomic
    def handle(self, *args, **options):
        for job in PERIODIC_JOBS:
            interval = crontab = None
            if job.crontab:
                minute, hour, day_of_week = job.crontab.split()
                crontab, _ = CrontabSchedule.objects.get_or_create(
                    minute=minute,
                    hour=hour,
                    day_of_week=day_of_week,
                    day_of_month="*",
                    month_of_year="*",
                    timezone="UTC",
                )
            else:
                interval, _ = IntervalSchedule.objects.get_or_create(
                    every=job.every_seconds, period=IntervalSchedule.SECONDS
                )
            _, created = PeriodicTask.objects.update_or_create(
                name=job.name,
                defaults={
                    "task": job.task,
                    "interval": interval,
                    "crontab": crontab,
                    "queue": job.queue,
                    "description": job.description,
                    "enabled": True,
                },
            )
            self.stdout.write(f"{'created' if created else 'updated'} periodic task {job.name!r} -> {job.task}")
